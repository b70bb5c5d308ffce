"""TokenService: a lab's API key exchanged for a short-lived lab token, which QA and payout accept
for that lab's own projects (they hold no API keys)."""

from __future__ import annotations

import datetime as dt

from cohort.intake.v1 import tokens_pb2 as pb
from cohort.intake.v1 import tokens_pb2_grpc as pb_grpc
from cohort_intake.api.auth import require_lab
from cohort_runtime import FailedPrecondition, GrpcContext, current_principal
from cohort_runtime.fields import timestamp
from cohort_runtime.tokens import INTAKE_ISSUER, issue_token


class TokenServicer(pb_grpc.TokenServiceServicer):
    def __init__(self, private_key_pem: str | None, lifetime: dt.timedelta) -> None:
        self._key = private_key_pem
        self._lifetime = lifetime

    async def ExchangeApiKey(
        self, request: pb.ExchangeApiKeyRequest, context: GrpcContext
    ) -> pb.ExchangeApiKeyResponse:
        lab_id = require_lab()
        key_id = current_principal().key_id
        if key_id is None:
            # A lab token presented here: a token is never exchanged for a longer-lived one.
            raise FailedPrecondition("only an API key is exchanged for a lab token", "api_keys", "CREDENTIAL")
        if self._key is None:
            raise FailedPrecondition(
                "this intake issues no lab tokens (COHORT_LAB_TOKEN_PRIVATE_KEY is not set)", "lab_tokens", "CONFIG"
            )
        now = dt.datetime.now(dt.UTC)
        token = issue_token(
            self._key,
            kind="lab",
            subject=str(lab_id),
            ttl=self._lifetime,
            issuer=INTAKE_ISSUER,
            now=now,
            api_key_id=key_id,
        )
        return pb.ExchangeApiKeyResponse(
            token=token, expire_time=timestamp(now + self._lifetime), lab_id=str(lab_id), key_id=key_id
        )
