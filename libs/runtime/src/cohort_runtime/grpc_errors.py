"""The one boundary that turns exceptions from servicers into gRPC statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import grpc
from grpc_status import rpc_status

from cohort_runtime import domain_errors as domain
from cohort_runtime._handler_wrap import Context, GuardInterceptor
from cohort_runtime.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unavailable,
    internal_status,
)
from cohort_runtime.transient import TRANSIENT_ERRORS

log = logging.getLogger(__name__)


def to_service_error(exc: domain.DomainError) -> ServiceError:
    """The status a domain error answers with; subclasses map by their chassis base."""
    if isinstance(exc, domain.InvalidInput):
        return InvalidArgument([FieldViolation(v.field, v.description) for v in exc.violations])
    if isinstance(exc, domain.NotFoundError):
        return NotFound(exc.kind, exc.identifier)
    if isinstance(exc, domain.Conflict):
        return AlreadyExists(str(exc))
    if isinstance(exc, domain.NotAllowed):
        return PermissionDenied(str(exc))
    if isinstance(exc, domain.StateConflict):
        return FailedPrecondition(str(exc), subject=exc.subject, violation_type=exc.state.upper())
    if isinstance(exc, domain.QuotaExceeded):
        return ResourceExhausted(str(exc), subject=exc.subject, retry_after_seconds=exc.retry_after_seconds)
    # A DomainError with no more specific base: still the caller's problem, never INTERNAL.
    return FailedPrecondition(str(exc))


@asynccontextmanager
async def _map_errors(context: Context, method: str) -> AsyncIterator[None]:
    try:
        yield
    except ServiceError as exc:
        await context.abort_with_status(rpc_status.to_status(exc.to_status()))
    except domain.DomainError as exc:
        await context.abort_with_status(rpc_status.to_status(to_service_error(exc).to_status()))
    except (grpc.aio.AbortError, asyncio.CancelledError):
        raise
    except asyncpg.TransactionRollbackError as exc:
        # Deadlock victim or serialization failure: nothing was written; the call may be retried.
        log.warning("transaction rolled back in %s: %s", method, exc)
        await context.abort_with_status(rpc_status.to_status(Aborted("concurrent update; retry the call").to_status()))
    except TRANSIENT_ERRORS as exc:
        # No traceback: an outage makes thousands of these, and the cause is logged elsewhere.
        log.warning("dependency unavailable in %s: %s: %s", method, type(exc).__name__, exc)
        status = Unavailable("service dependency unavailable; retry later", retry_after_seconds=1.0).to_status()
        await context.abort_with_status(rpc_status.to_status(status))
    except asyncpg.DataError as exc:
        # A value the edge let through and the database cannot store (class 22): the request's
        # fault, and the transaction rolled back, so nothing of it was kept. Named generically:
        # the database's text may quote internals.
        log.warning("value refused by the database in %s: %s", method, exc.sqlstate)
        error = InvalidArgument(
            [FieldViolation("request", "holds a value that cannot be stored (e.g. an escaped NUL in JSON)")]
        )
        await context.abort_with_status(rpc_status.to_status(error.to_status()))
    except Exception:
        log.exception("unhandled error in %s", method)
        await context.abort_with_status(rpc_status.to_status(internal_status()))


def error_interceptor() -> grpc.aio.ServerInterceptor:
    return GuardInterceptor(_map_errors)
