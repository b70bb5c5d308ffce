"""The request gate of the gRPC edge: bytes that do not decode, and requests outside the limits.

grpc answers a request whose bytes its deserializer cannot parse with UNKNOWN, puts the parser's
text in the status and logs a traceback per request, before any interceptor runs. Here the
deserializer never raises: it hands the servicer a `_Refused` marker instead, and the wrapped
behaviour raises INVALID_ARGUMENT for it, inside the error mapper and after authentication (an
anonymous caller learns nothing but UNAUTHENTICATED). A decoded request is checked against the
limits table (`cohort_runtime.limits`) the same way. Refusals are counted; undecodable requests
are logged at most once a minute per caller address, so a flood cannot flood the logs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from google.protobuf.message import DecodeError, Message
from prometheus_client import CollectorRegistry, Counter

from cohort_runtime._handler_wrap import Context, GuardInterceptor, Handler, wrap_handler
from cohort_runtime.errors import FieldViolation, InvalidArgument
from cohort_runtime.limits import check_request

log = logging.getLogger(__name__)

_LOG_EVERY_SECONDS = 60.0
_MAX_SOURCES = 10_000


class _Refused:
    """What the servicer receives instead of a request that is refused before it runs."""

    __slots__ = ("error", "reason")

    def __init__(self, reason: str, error: InvalidArgument) -> None:
        self.reason = reason
        self.error = error


def _guarded_deserializer(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            request = deserialize(data)
        except (DecodeError, ValueError, TypeError, UnicodeDecodeError):
            error = InvalidArgument(
                [FieldViolation("request", "is not a valid encoding of this method's request message")],
                message="request body could not be decoded",
            )
            return _Refused("undecodable", error)
        if isinstance(request, Message):
            violations = check_request(request)
            if violations:
                return _Refused("limits", InvalidArgument(violations))
        return request

    return parse


@contextlib.asynccontextmanager
async def _no_guard(_context: Context, _method: str) -> AsyncIterator[None]:
    yield


class RequestGuardInterceptor(GuardInterceptor):
    """Refuses undecodable and out-of-limits requests with INVALID_ARGUMENT; counts and logs them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(_no_guard)
        self._refused = Counter(
            "cohort_grpc_requests_refused_total",
            "Requests refused at the edge before their handler ran, by reason (undecodable, limits).",
            ["grpc_method", "reason"],
            registry=registry,
        )
        self._last_logged: dict[str, float] = {}

    def wrap(self, handler: Handler, method: str) -> Handler:
        if handler.request_deserializer is None:
            return handler

        def admit(request: Any, context: Context) -> Any:
            return self._admit(request, context, method)

        wrapped: Handler = wrap_handler(
            handler,
            method,
            _no_guard,
            deserializer=_guarded_deserializer(handler.request_deserializer),
            admit=admit,
        )
        return wrapped

    def _admit(self, request: Any, context: Context, method: str) -> Any:
        """The request itself, or the refusal it was turned into, raised."""
        if not isinstance(request, _Refused):
            return request
        self._refused.labels(method, request.reason).inc()
        if request.reason == "undecodable":
            self._log_once_per_source(context.peer() or "unknown", method)
        raise request.error

    def _log_once_per_source(self, peer: str, method: str) -> None:
        source = peer.rsplit(":", 1)[0]  # the address without the ephemeral port
        now = time.monotonic()
        if now - self._last_logged.get(source, -_LOG_EVERY_SECONDS) < _LOG_EVERY_SECONDS:
            return
        if len(self._last_logged) >= _MAX_SOURCES:
            self._last_logged.clear()
        self._last_logged[source] = now
        log.warning("undecodable request to %s from %s (logged once a minute per source)", method, source)
