"""Structured JSON logs on stdout, each line carrying the active trace and span ids."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import IO

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from cohort_runtime.transient import is_transient


class _TraceContextFilter(logging.Filter):
    """Adds trace_id/span_id of the current OpenTelemetry span, so logs join traces."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.service = self._service
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


class _TransientWithoutTraceback(logging.Filter):
    """A dependency that is away (database restarting, broker down) is an expected condition, logged
    on every retry: one line naming the error, not a 40-line traceback per retry. Any other
    exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and record.levelno <= logging.WARNING and is_transient(exc):
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class _OncePer(logging.Filter):
    """At most one record per logger and message template every `seconds`, for the loggers under
    `library`; the next one let through says how many were held back. For libraries that log every
    reconnect attempt (aiokafka: ~100 lines a second per client while a broker is down)."""

    def __init__(self, library: str, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._library = library
        self._seconds = seconds
        self._clock = clock
        self._last: dict[tuple[str, object], float] = {}
        self._held: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != self._library and not record.name.startswith(self._library + "."):
            return True
        key = (record.name, record.msg)
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._seconds:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        if held := self._held.pop(key, 0):
            record.msg = f"{record.getMessage()} ({held} more like this held back)"
            record.args = None
        return True


def json_handler(service: str, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> logging.Handler:
    """One JSON line per record on `stream`, with the service and the active trace."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(_TraceContextFilter(service))
    handler.addFilter(_OncePer("aiokafka", 10.0, clock))  # first: keyed on the message as logged
    handler.addFilter(_TransientWithoutTraceback())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{trace_id}{span_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    return handler


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route the root logger to one JSON line per record on stdout."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler(service, sys.stdout)]
    root.setLevel(level.upper())
    # aiokafka logs every coordinator hiccup at ERROR, and every reconnect attempt while a broker is
    # away; its own retries handle them. Kept, but once per message every 10 s.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
