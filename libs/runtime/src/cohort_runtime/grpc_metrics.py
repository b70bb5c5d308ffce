"""gRPC server RED metrics, named as go-grpc-prometheus names them so stock dashboards work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from cohort_runtime._handler_wrap import Context, GuardInterceptor

_LABELS = ("grpc_service", "grpc_method")


class GrpcServerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter("grpc_server_started_total", "RPCs started on the server.", _LABELS, registry=registry)
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by status code.",
            (*_LABELS, "grpc_code"),
            registry=registry,
        )
        self.seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from the start of an RPC to its status, in seconds.",
            _LABELS,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )

    def interceptor(self) -> grpc.aio.ServerInterceptor:
        return GuardInterceptor(self._observe)

    @asynccontextmanager
    async def _observe(self, context: Context, method: str) -> AsyncIterator[None]:
        service, _, name = method.lstrip("/").rpartition("/")
        labels = (service, name)
        self.started.labels(*labels).inc()
        begin = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            yield
            code = context.code() or grpc.StatusCode.OK
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        finally:
            self.handled.labels(*labels, code.name).inc()
            self.seconds.labels(*labels).observe(time.perf_counter() - begin)
