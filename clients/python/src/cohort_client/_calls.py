"""Deadlines and safe retries shared by the sync and asyncio clients."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc

from cohort_client.errors import from_rpc_error

T = TypeVar("T")


class _Page(Protocol):
    next_page_token: str


P = TypeVar("P", bound=_Page)


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


def pages(policy: CallPolicy, fn: Callable[..., P], request_for: Callable[[str], Any], metadata: Any) -> Iterator[P]:
    """Every page of a list call, each read with `call` (reading a page is safe to repeat):
    `request_for(token)` is the request of the page after `token` ("" for the first)."""
    token = ""
    while True:
        page = call(policy, fn, request_for(token), metadata, safe=True)
        yield page
        if not (token := page.next_page_token):
            return


async def apages(
    policy: CallPolicy, fn: Callable[..., Awaitable[P]], request_for: Callable[[str], Any], metadata: Any
) -> AsyncIterator[P]:
    """`pages` for the asyncio clients."""
    token = ""
    while True:
        page = await acall(policy, fn, request_for(token), metadata, safe=True)
        yield page
        if not (token := page.next_page_token):
            return
