"""AuditService: a lab samples delivered work and records its findings. Scoped to the calling lab."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.intake.v1 import audits_pb2 as pb
from cohort.intake.v1 import audits_pb2_grpc as pb_grpc
from cohort_intake.api.auth import require_lab
from cohort_intake.app import audits as app
from cohort_intake.domain.audits import Audit, Decision, DisputeState, Finding, NewFinding
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument, paging
from cohort_runtime.fields import parse_uuid, timestamp

DECISIONS = {
    Decision.PENDING: pb.AUDIT_DECISION_PENDING,
    Decision.ACCEPTED: pb.AUDIT_DECISION_ACCEPTED,
    Decision.REJECTED: pb.AUDIT_DECISION_REJECTED,
}
FINDINGS = {Finding.ACCEPTED: pb.FINDING_ACCEPTED, Finding.REJECTED: pb.FINDING_REJECTED}
DISPUTES = {
    DisputeState.PENDING: pb.ITEM_DISPUTE_STATE_PENDING,
    DisputeState.UPHELD: pb.ITEM_DISPUTE_STATE_UPHELD,
    DisputeState.DISMISSED: pb.ITEM_DISPUTE_STATE_DISMISSED,
}
_FINDINGS_BACK = {v: k for k, v in FINDINGS.items()}


def audit_to_proto(a: Audit) -> pb.Audit:
    p = a.plan
    return pb.Audit(
        audit_id=str(a.audit_id),
        project_id=str(a.project_id),
        lot_size=p.lot_size,
        plan=pb.SamplingPlan(
            aql_percent=p.aql_percent,
            code_letter=p.code_letter,
            sample_size=p.sample_size,
            acceptance_number=p.acceptance_number,
            rejection_number=p.rejection_number,
        ),
        items=[
            pb.AuditedItem(
                item_id=str(i.item_id),
                task_id=i.task_id,
                finding=FINDINGS[i.finding] if i.finding else pb.FINDING_UNSPECIFIED,
                reason=i.reason,
                finding_time=timestamp(i.finding_time) if i.finding_time else None,
                dispute=DISPUTES[i.dispute] if i.dispute else pb.ITEM_DISPUTE_STATE_UNSPECIFIED,
                qa_comments=i.qa_comments,
                rework_revision=i.rework_revision,
                rework_item_id=str(i.rework_item_id) if i.rework_item_id else "",
            )
            for i in a.items
        ],
        accepted_count=a.accepted_count,
        rejected_count=a.rejected_count,
        decision=DECISIONS[a.decision],
        create_time=timestamp(a.create_time),
        decide_time=timestamp(a.decide_time) if a.decide_time else None,
    )


def _findings(request: pb.RecordFindingsRequest) -> list[NewFinding]:
    parsed, violations = [], []
    for i, f in enumerate(request.findings):
        finding = _FINDINGS_BACK.get(f.finding)
        try:
            item_id = uuid.UUID(f.item_id)
        except ValueError:
            violations.append(FieldViolation(f"findings[{i}].item_id", "must be a UUID"))
            continue
        if finding is None:
            violations.append(FieldViolation(f"findings[{i}].finding", "must be accepted or rejected"))
            continue
        parsed.append(NewFinding(item_id, finding, f.reason))
    if violations:
        raise InvalidArgument(violations)
    return parsed


class AuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def CreateAudit(self, request: pb.CreateAuditRequest, context: GrpcContext) -> pb.CreateAuditResponse:
        lab_id = require_lab()
        audit = await app.create_audit(
            self._pool,
            lab_id,
            parse_uuid(request.request_id, "request_id"),
            parse_uuid(request.project_id, "project_id"),
            request.aql_percent,
        )
        return pb.CreateAuditResponse(audit=audit_to_proto(audit))

    async def GetAudit(self, request: pb.GetAuditRequest, context: GrpcContext) -> pb.GetAuditResponse:
        lab_id = require_lab()
        audit = await app.get_audit(self._pool, lab_id, parse_uuid(request.audit_id, "audit_id"))
        return pb.GetAuditResponse(audit=audit_to_proto(audit))

    async def ListAudits(self, request: pb.ListAuditsRequest, context: GrpcContext) -> pb.ListAuditsResponse:
        lab_id = require_lab()
        project_id = parse_uuid(request.project_id, "project_id")
        size = paging.page_size(request.page_size)
        query = {"rpc": "ListAudits", "lab": str(lab_id), "project": str(project_id)}
        before = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, uuid.UUID)
        audits = await app.list_audits(self._pool, lab_id, project_id, before, size)
        last = audits[size - 1] if len(audits) > size else None
        token = paging.encode([last.create_time.isoformat(), str(last.audit_id)], query) if last else ""
        return pb.ListAuditsResponse(audits=[audit_to_proto(a) for a in audits[:size]], next_page_token=token)

    async def RecordFindings(
        self, request: pb.RecordFindingsRequest, context: GrpcContext
    ) -> pb.RecordFindingsResponse:
        lab_id = require_lab()
        audit_id = parse_uuid(request.audit_id, "audit_id")
        audit = await app.record_findings(self._pool, lab_id, audit_id, _findings(request))
        return pb.RecordFindingsResponse(audit=audit_to_proto(audit))
