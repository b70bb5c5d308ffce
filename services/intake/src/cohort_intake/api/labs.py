"""LabAdminService: operators onboard customer labs, manage their API keys, and map an expert
pseudonym a lab was shown back to the expert."""

from __future__ import annotations

import asyncpg

from cohort.intake.v1 import labs_pb2 as pb
from cohort.intake.v1 import labs_pb2_grpc as pb_grpc
from cohort_intake.app import api_keys, delivery
from cohort_intake.app import labs as app
from cohort_intake.domain.api_keys import ApiKey
from cohort_intake.domain.labs import Lab, NewLab
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument
from cohort_runtime.auth import require_operator
from cohort_runtime.fields import parse_uuid, timestamp
from cohort_runtime.pseudonyms import PREFIX


def lab_to_proto(lab: Lab) -> pb.Lab:
    return pb.Lab(lab_id=str(lab.lab_id), display_name=lab.display_name, create_time=timestamp(lab.create_time))


def key_to_proto(key: ApiKey) -> pb.ApiKey:
    out = pb.ApiKey(
        key_id=str(key.key_id),
        lab_id=str(key.lab_id),
        prefix=key.prefix,
        display_name=key.display_name,
        create_time=timestamp(key.create_time),
    )
    if key.revoke_time is not None:
        out.revoke_time.CopyFrom(timestamp(key.revoke_time))
    return out


class LabAdminServicer(pb_grpc.LabAdminServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def CreateLab(self, request: pb.CreateLabRequest, context: GrpcContext) -> pb.CreateLabResponse:
        require_operator("lab administration")
        lab = await app.create_lab(self._pool, NewLab.parse(request.request_id, request.display_name))
        return pb.CreateLabResponse(lab=lab_to_proto(lab))

    async def GetLab(self, request: pb.GetLabRequest, context: GrpcContext) -> pb.GetLabResponse:
        require_operator("lab administration")
        lab = await app.get_lab(self._pool, parse_uuid(request.lab_id, "lab_id"))
        return pb.GetLabResponse(lab=lab_to_proto(lab))

    async def CreateApiKey(self, request: pb.CreateApiKeyRequest, context: GrpcContext) -> pb.CreateApiKeyResponse:
        require_operator("lab administration")
        key, secret = await api_keys.create_key(self._pool, parse_uuid(request.lab_id, "lab_id"), request.display_name)
        return pb.CreateApiKeyResponse(api_key=key_to_proto(key), secret=secret)

    async def ListApiKeys(self, request: pb.ListApiKeysRequest, context: GrpcContext) -> pb.ListApiKeysResponse:
        require_operator("lab administration")
        keys = await api_keys.list_keys(self._pool, parse_uuid(request.lab_id, "lab_id"))
        return pb.ListApiKeysResponse(api_keys=[key_to_proto(k) for k in keys])

    async def RevokeApiKey(self, request: pb.RevokeApiKeyRequest, context: GrpcContext) -> pb.RevokeApiKeyResponse:
        require_operator("lab administration")
        key = await api_keys.revoke_key(self._pool, parse_uuid(request.key_id, "key_id"))
        return pb.RevokeApiKeyResponse(api_key=key_to_proto(key))

    async def ResolveExpertPseudonym(
        self, request: pb.ResolveExpertPseudonymRequest, context: GrpcContext
    ) -> pb.ResolveExpertPseudonymResponse:
        require_operator("resolving an expert pseudonym")
        lab_id = parse_uuid(request.lab_id, "lab_id")
        if not request.pseudonym.startswith(PREFIX):
            raise InvalidArgument([FieldViolation("pseudonym", f"must be a pseudonym a lab was shown ('{PREFIX}…')")])
        expert_id = await delivery.resolve_pseudonym(self._pool, lab_id, request.pseudonym)
        return pb.ResolveExpertPseudonymResponse(expert_id=expert_id)
