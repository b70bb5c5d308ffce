"""Maps intake's domain errors to the chassis's gRPC-aware errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cohort_intake.domain.errors import (
    IdempotencyConflict,
    IllegalTransition,
    IntakeError,
    InvalidInput,
    NotFoundError,
    NotReady,
    QuotaExceeded,
)
from cohort_runtime import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ServiceError,
)
from cohort_runtime.errors import ResourceExhausted


def to_service_error(exc: IntakeError) -> ServiceError:
    if isinstance(exc, InvalidInput):
        return InvalidArgument([FieldViolation(v.field, v.description) for v in exc.violations])
    if isinstance(exc, NotFoundError):
        return NotFound(exc.kind, exc.identifier)
    if isinstance(exc, IdempotencyConflict):
        return AlreadyExists(str(exc))
    if isinstance(exc, NotReady):
        return FailedPrecondition(str(exc), subject=f"projects/{exc.project_id}", violation_type=exc.what)
    if isinstance(exc, QuotaExceeded):
        return ResourceExhausted(str(exc), subject=exc.subject, retry_after_seconds=exc.retry_after_seconds)
    if isinstance(exc, IllegalTransition):
        return FailedPrecondition(str(exc), subject=f"projects/{exc.project_id}", violation_type=exc.state.upper())
    return ServiceError(str(exc))


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except IntakeError as exc:
        raise to_service_error(exc) from exc
