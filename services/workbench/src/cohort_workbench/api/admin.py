"""AccountAdminService: operators invite experts to the workbench and end their sessions."""

from __future__ import annotations

import datetime as dt
import re

import asyncpg
import grpc

from cohort.tasking.v1 import experts_pb2
from cohort.workbench.v1 import accounts_pb2 as pb
from cohort.workbench.v1 import accounts_pb2_grpc as pb_grpc
from cohort_runtime import FailedPrecondition, FieldViolation, GrpcContext, InvalidArgument, NotFound
from cohort_runtime.auth import require_operator
from cohort_runtime.errors import Unavailable
from cohort_runtime.fields import timestamp
from cohort_workbench.app import accounts
from cohort_workbench.app.accounts import RecentSessions
from cohort_workbench.backends import Backends, roles_of
from cohort_workbench.metrics import WebMetrics

_EXPERT_ID = re.compile(r"^exp_[a-z0-9]{6,40}$")


class AccountAdminServicer(pb_grpc.AccountAdminServiceServicer):
    def __init__(
        self,
        pool: asyncpg.Pool,
        backends: Backends,
        metrics: WebMetrics,
        recent: RecentSessions,
        public_url: str,
        valid_for: dt.timedelta,
    ) -> None:
        self._pool = pool
        self._recent = recent
        self._backends = backends
        self._metrics = metrics
        self._public_url = public_url.rstrip("/")
        self._valid_for = valid_for

    async def InviteExpert(self, request: pb.InviteExpertRequest, context: GrpcContext) -> pb.InviteExpertResponse:
        operator = require_operator("inviting an expert")
        violations = []
        if not _EXPERT_ID.match(request.expert_id):
            violations.append(FieldViolation("expert_id", 'must be "exp_" followed by 6..40 of [a-z0-9]'))
        if violations:
            raise InvalidArgument(violations)
        profile = await self._registered(request.expert_id, context)
        if profile.status == experts_pb2.EXPERT_STATUS_OFFBOARDED:
            raise FailedPrecondition(f"expert {request.expert_id} is offboarded")
        token, expires = await accounts.invite(
            self._pool, request.expert_id, roles_of(profile), operator.subject, self._valid_for
        )
        self._metrics.invitations.labels("issued").inc()
        expire_time = timestamp(expires)
        return pb.InviteExpertResponse(invitation_url=f"{self._public_url}/invite/{token}", expire_time=expire_time)

    async def _registered(self, expert_id: str, context: GrpcContext) -> experts_pb2.ExpertProfile:
        """Only an expert tasking knows may be invited. The operator's own credential is passed on:
        the workbench holds no operator power of its own."""
        forwarded = tuple((k, v) for k, v in context.invocation_metadata() or () if k == "authorization")
        try:
            got = await self._backends.expert_admin.GetExpert(
                experts_pb2.GetExpertRequest(expert_id=expert_id), metadata=forwarded, timeout=5
            )
            return got.expert
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound("expert", expert_id) from None
            raise Unavailable(f"tasking could not confirm the expert ({exc.code().name})") from None

    async def SignOutEverywhere(
        self, request: pb.SignOutEverywhereRequest, context: GrpcContext
    ) -> pb.SignOutEverywhereResponse:
        require_operator("ending an expert's sessions")
        if not _EXPERT_ID.match(request.expert_id):
            raise InvalidArgument([FieldViolation("expert_id", 'must be "exp_" followed by 6..40 of [a-z0-9]')])
        return pb.SignOutEverywhereResponse(
            sessions_ended=await accounts.sign_out_everywhere(self._pool, request.expert_id, self._recent)
        )
