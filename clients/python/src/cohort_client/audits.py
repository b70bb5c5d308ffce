"""A lab's audits of delivered work (`lab.audits`, sync and asyncio): acceptance sampling per
ISO 2859-1 (docs/AUDITS.md).

    with LabClient("intake.example:443", api_key="ck_...", secure=True) as lab:
        audit = lab.audits.create(project_id, aql_percent=1.0)
        for item in audit.items: ...                      # judge each sampled item
        audit = lab.audits.record(audit.audit_id, {item_id: None, other_id: "why it is wrong"})
        print(audit.decision)

Creating is retried safely (its request id returns the same audit); recording too (a finding is
final, and the same finding again changes nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

import grpc

from cohort.intake.v1 import audits_pb2 as pb
from cohort.intake.v1 import audits_pb2_grpc
from cohort_client._calls import CallPolicy, acall, apages, call, pages

Metadata = tuple[tuple[str, str], ...]


def _create(project_id: str, aql_percent: float, request_id: str | None) -> pb.CreateAuditRequest:
    return pb.CreateAuditRequest(
        request_id=request_id or str(uuid.uuid4()), project_id=project_id, aql_percent=aql_percent
    )


def _list(project_id: str) -> Callable[[str], pb.ListAuditsRequest]:
    return lambda token: pb.ListAuditsRequest(project_id=project_id, page_size=1000, page_token=token)


def _record(audit_id: str, findings: Mapping[str, str | None]) -> pb.RecordFindingsRequest:
    """`findings` maps a sampled item's id to None (accepted) or the reason it is rejected."""
    return pb.RecordFindingsRequest(
        audit_id=audit_id,
        findings=[
            pb.ItemFinding(item_id=item_id, finding=pb.FINDING_ACCEPTED)
            if reason is None
            else pb.ItemFinding(item_id=item_id, finding=pb.FINDING_REJECTED, reason=reason)
            for item_id, reason in findings.items()
        ],
    )


class Audits:
    def __init__(self, channel: grpc.Channel, metadata: Metadata, policy: CallPolicy) -> None:
        self._stub = audits_pb2_grpc.AuditServiceStub(channel)
        self._md = metadata
        self._policy = policy

    def create(self, project_id: str, aql_percent: float, request_id: str | None = None) -> pb.Audit:
        """Sample the items delivered since the project's last audit."""
        request = _create(project_id, aql_percent, request_id)
        return call(self._policy, self._stub.CreateAudit, request, self._md, safe=True).audit

    def get(self, audit_id: str) -> pb.Audit:
        return call(self._policy, self._stub.GetAudit, pb.GetAuditRequest(audit_id=audit_id), self._md, safe=True).audit

    def list(self, project_id: str) -> list[pb.Audit]:
        """Every audit of the project, newest first (fetched a page at a time)."""
        return [
            a for page in pages(self._policy, self._stub.ListAudits, _list(project_id), self._md) for a in page.audits
        ]

    def record(self, audit_id: str, findings: Mapping[str, str | None]) -> pb.Audit:
        request = _record(audit_id, findings)
        return call(self._policy, self._stub.RecordFindings, request, self._md, safe=True).audit


class AsyncAudits:
    def __init__(self, channel: grpc.aio.Channel, metadata: Metadata, policy: CallPolicy) -> None:
        self._stub = audits_pb2_grpc.AuditServiceStub(channel)
        self._md = metadata
        self._policy = policy

    async def create(self, project_id: str, aql_percent: float, request_id: str | None = None) -> pb.Audit:
        request = _create(project_id, aql_percent, request_id)
        return (await acall(self._policy, self._stub.CreateAudit, request, self._md, safe=True)).audit

    async def get(self, audit_id: str) -> pb.Audit:
        request = pb.GetAuditRequest(audit_id=audit_id)
        return (await acall(self._policy, self._stub.GetAudit, request, self._md, safe=True)).audit

    async def list(self, project_id: str) -> list[pb.Audit]:
        return [
            a
            async for page in apages(self._policy, self._stub.ListAudits, _list(project_id), self._md)
            for a in page.audits
        ]

    async def record(self, audit_id: str, findings: Mapping[str, str | None]) -> pb.Audit:
        request = _record(audit_id, findings)
        return (await acall(self._policy, self._stub.RecordFindings, request, self._md, safe=True)).audit
