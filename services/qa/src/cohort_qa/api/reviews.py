"""ReviewService: reviewers' work loop. Every call acts for the token's reviewer only."""

from __future__ import annotations

import asyncpg

from cohort.qa.v1 import reviews_pb2 as pb
from cohort.qa.v1 import reviews_pb2_grpc as pb_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1.submissions_pb2 import SubmissionPayload
from cohort.types.v1.tasks_pb2 import TaskInput
from cohort_qa.app import reviews as app
from cohort_qa.events.payloads import PROTO_KINDS
from cohort_qa.metrics import QaMetrics
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument
from cohort_runtime.auth import require_reviewer
from cohort_runtime.fields import parse_uuid, timestamp

MAX_COMMENT_CHARS = 20_000


def review_to_proto(r: app.LeasedReview) -> pb.Review:
    expire = timestamp(r.lease_until)
    out = pb.Review(
        review_id=str(r.review_id),
        submission_id=str(r.submission_id),
        project_id=str(r.project.project_id),
        task_id=r.task_id,
        data_kind=PROTO_KINDS[r.project.kind],
        payload=SubmissionPayload.FromString(r.payload),
        rubric=types.Rubric(
            criteria=[
                types.RubricCriterion(name=c.name, weight=c.weight, scale_min=c.scale_min, scale_max=c.scale_max)
                for c in r.project.criteria
            ]
        ),
        rubric_version=r.project.rubric_version,
        expire_time=expire,
        review_reasons=list(r.reasons),
    )
    if r.task_input:
        out.input.CopyFrom(TaskInput.FromString(r.task_input))
    return out


class ReviewServicer(pb_grpc.ReviewServiceServicer):
    def __init__(self, pool: asyncpg.Pool, metrics: QaMetrics) -> None:
        self._pool = pool
        self._metrics = metrics

    async def AcquireReview(self, request: pb.AcquireReviewRequest, context: GrpcContext) -> pb.AcquireReviewResponse:
        reviewer = require_reviewer()
        project_id = parse_uuid(request.project_id, "project_id") if request.project_id else None
        leased = await app.acquire(self._pool, reviewer, project_id)
        return pb.AcquireReviewResponse(review=review_to_proto(leased)) if leased else pb.AcquireReviewResponse()

    async def SubmitReview(self, request: pb.SubmitReviewRequest, context: GrpcContext) -> pb.SubmitReviewResponse:
        reviewer = require_reviewer()
        violations = []
        if request.verdict == pb.REVIEW_VERDICT_UNSPECIFIED:
            violations.append(FieldViolation("verdict", "must be ACCEPT or REJECT"))
        if request.verdict == pb.REVIEW_VERDICT_REJECT and not request.comments.strip():
            violations.append(FieldViolation("comments", "a rejection must tell the expert why"))
        if len(request.comments) > MAX_COMMENT_CHARS:
            violations.append(FieldViolation("comments", f"at most {MAX_COMMENT_CHARS} characters"))
        review_id = parse_uuid(request.review_id, "review_id")
        if violations:
            raise InvalidArgument(violations)
        done = await app.submit(
            self._pool,
            reviewer,
            review_id,
            dict(request.scores),
            request.verdict == pb.REVIEW_VERDICT_ACCEPT,
            request.comments,
            self._metrics,
        )
        return pb.SubmitReviewResponse(weighted_total=done.weighted_total, decided_submission=done.decided_submission)

    async def ReleaseReview(self, request: pb.ReleaseReviewRequest, context: GrpcContext) -> pb.ReleaseReviewResponse:
        reviewer = require_reviewer()
        review_id = parse_uuid(request.review_id, "review_id")
        await app.release(self._pool, reviewer, review_id)
        return pb.ReleaseReviewResponse()
