"""The services the workbench calls for an expert, with a short-lived expert token it mints.

The browser never holds a platform token: the workbench signs one per expert (kind "expert", the
account's roles) with the platform key mounted into this service only, and re-signs it before it
runs out. Backends verify it exactly as they verify any other expert token.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from cohort.payout.v1 import balances_pb2_grpc
from cohort.qa.v1 import quality_pb2_grpc, reviews_pb2_grpc, verdicts_pb2_grpc
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc, work_pb2_grpc
from cohort_runtime.tls import channel
from cohort_runtime.tokens import issue_token

Metadata = tuple[tuple[str, str], ...]


def roles_of(profile: experts_pb2.ExpertProfile) -> list[str]:
    """The roles an expert's tokens carry: tasking's profile is the source of truth."""
    return ["reviewer"] if profile.reviewer else []


class ExpertTokens:
    """Expert tokens per (expert, roles), re-signed when less than a fifth of their life is left."""

    def __init__(self, private_pem: str, ttl: dt.timedelta) -> None:
        self._key = private_pem
        self._ttl = ttl
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}

    def metadata(self, expert_id: str, roles: tuple[str, ...]) -> Metadata:
        key = (expert_id, roles)
        cached = self._cache.get(key)
        if cached is None or time.monotonic() > cached[1]:
            token = issue_token(self._key, kind="expert", subject=expert_id, roles=roles, ttl=self._ttl)
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = (token, time.monotonic() + self._ttl.total_seconds() * 0.8)
            cached = self._cache[key]
        return (("authorization", f"Bearer {cached[0]}"),)


class Backends:
    """gRPC stubs of tasking, QA and payout over one channel per service."""

    def __init__(
        self,
        tasking: str,
        qa: str,
        payout: str,
        ca_file: Path | None = None,
        client_cert: tuple[Path, Path] | None = None,
    ) -> None:
        # TLS when a CA is configured (presenting this service's certificate for mutual TLS).
        self._channels = [channel(a, ca_file, client_cert=client_cert) for a in (tasking, qa, payout)]
        t, q, p = self._channels
        self.work = work_pb2_grpc.WorkServiceStub(t)
        self.profile = experts_pb2_grpc.ProfileServiceStub(t)
        self.expert_admin = experts_pb2_grpc.ExpertAdminServiceStub(t)
        self.reviews = reviews_pb2_grpc.ReviewServiceStub(q)
        self.quality = quality_pb2_grpc.QualityServiceStub(q)
        self.verdicts = verdicts_pb2_grpc.ExpertVerdictServiceStub(q)
        self.balances = balances_pb2_grpc.BalanceServiceStub(p)

    async def close(self) -> None:
        for open_channel in self._channels:
            await open_channel.close()
