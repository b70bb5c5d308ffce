"""The one boundary that turns exceptions from servicers into gRPC statuses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from grpc_status import rpc_status

from cohort_runtime._handler_wrap import Context, GuardInterceptor
from cohort_runtime.errors import ServiceError, internal_status

log = logging.getLogger(__name__)


@asynccontextmanager
async def _map_errors(context: Context, method: str) -> AsyncIterator[None]:
    try:
        yield
    except ServiceError as exc:
        await context.abort_with_status(rpc_status.to_status(exc.to_status()))
    except (grpc.aio.AbortError, asyncio.CancelledError):
        raise
    except Exception:
        log.exception("unhandled error in %s", method)
        await context.abort_with_status(rpc_status.to_status(internal_status()))


def error_interceptor() -> grpc.aio.ServerInterceptor:
    return GuardInterceptor(_map_errors)
