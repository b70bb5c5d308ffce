"""Maps tasking's domain errors to the chassis's gRPC-aware errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cohort_runtime import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from cohort_tasking.domain.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFoundError,
    StateConflict,
    TaskingError,
)


def to_service_error(exc: TaskingError) -> ServiceError:
    if isinstance(exc, InvalidInput):
        return InvalidArgument([FieldViolation(v.field, v.description) for v in exc.violations])
    if isinstance(exc, NotFoundError):
        return NotFound(exc.kind, exc.identifier)
    if isinstance(exc, Conflict):
        return AlreadyExists(str(exc))
    if isinstance(exc, NotAllowed):
        return PermissionDenied(str(exc))
    if isinstance(exc, StateConflict):
        return FailedPrecondition(str(exc), subject=exc.subject, violation_type=exc.state.upper())
    return ServiceError(str(exc))


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except TaskingError as exc:
        raise to_service_error(exc) from exc
