"""LabAdminService: operators onboard customer labs."""

from __future__ import annotations

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.intake.v1 import labs_pb2 as pb
from cohort.intake.v1 import labs_pb2_grpc as pb_grpc
from cohort_intake.api.errors import domain_errors
from cohort_intake.app import labs as app
from cohort_intake.domain.labs import Lab, NewLab, parse_lab_id
from cohort_runtime import GrpcContext, PermissionDenied, current_principal


def _require_operator() -> None:
    principal = current_principal()
    if principal.kind != "operator":
        raise PermissionDenied("lab administration needs an operator credential")


def lab_to_proto(lab: Lab) -> pb.Lab:
    created = Timestamp()
    created.FromDatetime(lab.create_time)
    return pb.Lab(lab_id=str(lab.lab_id), display_name=lab.display_name, create_time=created)


class LabAdminServicer(pb_grpc.LabAdminServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def CreateLab(self, request: pb.CreateLabRequest, context: GrpcContext) -> pb.CreateLabResponse:
        _require_operator()
        with domain_errors():
            lab = await app.create_lab(self._pool, NewLab.parse(request.request_id, request.display_name))
        return pb.CreateLabResponse(lab=lab_to_proto(lab))

    async def GetLab(self, request: pb.GetLabRequest, context: GrpcContext) -> pb.GetLabResponse:
        _require_operator()
        with domain_errors():
            lab = await app.get_lab(self._pool, parse_lab_id(request.lab_id))
        return pb.GetLabResponse(lab=lab_to_proto(lab))
