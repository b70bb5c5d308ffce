"""Deadlines and safe retries shared by the sync and asyncio clients."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from cohort_client.errors import from_rpc_error

T = TypeVar("T")


@dataclass(frozen=True)
class CallPolicy:
    timeout: float = 10.0
    """Deadline of every unary call, in seconds."""
    attempts: int = 4
    """Tries of a call that is safe to repeat (reads, request-id creates, idempotent writes)."""
    backoff: float = 0.2


def _delay(policy: CallPolicy, attempt: int) -> float:
    return float(policy.backoff * (2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter, not security


def call(policy: CallPolicy, fn: Callable[..., T], request: Any, metadata: Any, *, safe: bool) -> T:
    for attempt in range(policy.attempts if safe else 1):
        try:
            return fn(request, timeout=policy.timeout, metadata=metadata)
        except grpc.RpcError as exc:
            error = from_rpc_error(exc)
            if not (safe and error.retryable) or attempt == policy.attempts - 1:
                raise error from None
            time.sleep(_delay(policy, attempt))
    raise AssertionError("unreachable")


async def acall(policy: CallPolicy, fn: Callable[..., Awaitable[T]], request: Any, metadata: Any, *, safe: bool) -> T:
    for attempt in range(policy.attempts if safe else 1):
        try:
            return await fn(request, timeout=policy.timeout, metadata=metadata)
        except grpc.RpcError as exc:
            error = from_rpc_error(exc)
            if not (safe and error.retryable) or attempt == policy.attempts - 1:
                raise error from None
            await asyncio.sleep(_delay(policy, attempt))
    raise AssertionError("unreachable")
