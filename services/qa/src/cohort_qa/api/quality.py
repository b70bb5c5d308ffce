"""QualityService: a project's quality figures and an expert's estimates."""

from __future__ import annotations

import asyncpg

from cohort.qa.v1 import quality_pb2 as pb
from cohort.qa.v1 import quality_pb2_grpc as pb_grpc
from cohort_qa.app import reports
from cohort_qa.domain.states import SubmissionState
from cohort_qa.metrics import QaMetrics
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument
from cohort_runtime.auth import require_lab_scope, require_self_or_operator
from cohort_runtime.fields import parse_uuid, timestamp
from cohort_runtime.pseudonyms import LabView


class QualityServicer(pb_grpc.QualityServiceServicer):
    def __init__(self, pool: asyncpg.Pool, metrics: QaMetrics, lab_view: LabView | None = None) -> None:
        self._pool = pool
        self._metrics = metrics
        self._lab_view = lab_view or LabView(None)

    async def GetProjectQuality(
        self, request: pb.GetProjectQualityRequest, context: GrpcContext
    ) -> pb.GetProjectQualityResponse:
        scope = require_lab_scope("reading a project's quality")
        project_id = parse_uuid(request.project_id, "project_id")
        r = await reports.project_quality(self._pool, project_id, scope.lab_id)
        if r.alpha == r.alpha:  # not NaN
            self._metrics.project_alpha.labels(str(project_id)).set(r.alpha)
        return pb.GetProjectQualityResponse(
            quality=pb.ProjectQuality(
                project_id=str(project_id),
                krippendorff_alpha=r.alpha,
                alpha_level=r.alpha_level,
                gold_accuracy=r.gold_accuracy,
                acceptance_rate=r.acceptance_rate,
                reviewer_agreement=r.reviewer_agreement,
                # A lab sees its own pseudonyms for the flagged experts (none without the key).
                flagged_expert_ids=(
                    r.flagged_expert_ids
                    if scope.lab_id is None
                    else self._lab_view.of(scope.lab_id, r.flagged_expert_ids)
                ),
                submissions=sum(r.counts.values()),
                accepted=r.counts.get(SubmissionState.ACCEPTED, 0),
                rejected=r.counts.get(SubmissionState.REJECTED, 0),
                in_review=r.counts.get(SubmissionState.IN_REVIEW, 0),
                items_finalized=r.items_finalized,
                rejection_reasons=r.rejection_reasons,
                criterion_alpha=r.criterion_alpha,
                reviewer_accuracy=r.reviewer_accuracy,
                reworks_open=r.reworks_open,
                revisits_pending=r.revisits_pending,
            )
        )

    async def GetExpertQuality(
        self, request: pb.GetExpertQualityRequest, context: GrpcContext
    ) -> pb.GetExpertQualityResponse:
        if not request.expert_id:
            raise InvalidArgument([FieldViolation("expert_id", "required")])
        require_self_or_operator(request.expert_id, "reading an expert's quality")
        standings = await reports.expert_standings(self._pool, request.expert_id)
        return pb.GetExpertQualityResponse(
            estimates=[_standing(r) for r in standings.as_expert],
            reviewer_estimates=[_standing(r) for r in standings.as_reviewer],
        )


def _standing(r: reports.DomainStanding) -> pb.ExpertQuality:
    return pb.ExpertQuality(
        domain=r.domain,
        mean=r.mean,
        lower=r.lower,
        upper=r.upper,
        evidence=r.evidence,
        suspended=r.suspended,
        as_of=timestamp(r.as_of) if r.as_of else None,
    )
