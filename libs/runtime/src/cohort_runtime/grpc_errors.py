"""The one boundary that turns exceptions from servicers into gRPC statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import grpc
from grpc_status import rpc_status

from cohort_runtime._handler_wrap import Context, GuardInterceptor
from cohort_runtime.errors import Aborted, ServiceError, Unavailable, internal_status

log = logging.getLogger(__name__)


@asynccontextmanager
async def _map_errors(context: Context, method: str) -> AsyncIterator[None]:
    try:
        yield
    except ServiceError as exc:
        await context.abort_with_status(rpc_status.to_status(exc.to_status()))
    except (grpc.aio.AbortError, asyncio.CancelledError):
        raise
    except asyncpg.TransactionRollbackError as exc:
        # Deadlock victim or serialization failure: nothing was written; the call may be retried.
        log.warning("transaction rolled back in %s: %s", method, exc)
        await context.abort_with_status(rpc_status.to_status(Aborted("concurrent update; retry the call").to_status()))
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        log.warning("dependency unavailable in %s: %s", method, exc)
        await context.abort_with_status(rpc_status.to_status(Unavailable("service dependency unavailable").to_status()))
    except Exception:
        log.exception("unhandled error in %s", method)
        await context.abort_with_status(rpc_status.to_status(internal_status()))


def error_interceptor() -> grpc.aio.ServerInterceptor:
    return GuardInterceptor(_map_errors)
