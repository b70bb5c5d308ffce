"""Maps QA's domain errors to the chassis's gRPC-aware errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cohort_qa.domain.errors import (
    InvalidReview,
    ProjectNotFound,
    QaError,
    ReviewerNotQualified,
    ReviewNotFound,
    ReviewNotLeased,
)
from cohort_runtime import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
)


def to_service_error(exc: QaError) -> ServiceError:
    if isinstance(exc, InvalidReview):
        return InvalidArgument([FieldViolation(k, v) for k, v in exc.problems.items()])
    if isinstance(exc, ReviewNotFound):
        return NotFound("review", str(exc))
    if isinstance(exc, ProjectNotFound):
        return NotFound("project", str(exc))
    if isinstance(exc, ReviewNotLeased):
        return FailedPrecondition(str(exc), subject="review", violation_type="LEASE")
    if isinstance(exc, ReviewerNotQualified):
        return PermissionDenied(str(exc))
    return ServiceError(str(exc))


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except QaError as exc:
        raise to_service_error(exc) from exc
