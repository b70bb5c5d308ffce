"""What a consumer hands its handlers: the decoded `Event`, the `EventRouter` mapping each event
type to its handler (one event per call, or a batch), and `after_commit` for the side effects a
handler must have once (metrics, notifications), not once per attempt."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import asyncpg
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Event(Generic[M]):
    """A consumed event: its CloudEvents attributes, the decoded message and where it came from."""

    id: str
    type: str
    source: str
    time: dt.datetime
    topic: str
    partition: int
    offset: int
    key: bytes | None
    message: M


_after_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "cohort_after_commit", default=None
)


def after_commit(effect: Callable[[], None]) -> None:
    """Run `effect` (a metric, say) once the handler's transaction has committed, never when it
    rolls back: the inbox may run a handler more than once (a retry, a batch settled again one by
    one), and only the run that commits happened. Outside an inbox transaction it runs at once."""
    pending = _after_commit.get()
    if pending is None:
        effect()
    else:
        pending.append(effect)


@contextlib.asynccontextmanager
async def committed_effects() -> AsyncIterator[None]:
    """Collect the effects handlers register inside the block; run them only if it completes."""
    pending: list[Callable[[], None]] = []
    token = _after_commit.set(pending)
    try:
        yield
    finally:
        _after_commit.reset(token)
    for effect in pending:  # reached only when the block (and its transaction) completed
        effect()


Handler = Callable[[asyncpg.Connection, Event[Any]], Awaitable[None]]
BatchHandler = Callable[[asyncpg.Connection, list[Event[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """How one event type is handled: one event per call, or (batch) a run of them per call."""

    message_type: type[Message]
    handler: Handler | BatchHandler
    batch: bool

    async def apply(self, conn: asyncpg.Connection, events: list[Event[Any]]) -> None:
        if self.batch:
            await cast(BatchHandler, self.handler)(conn, events)
        else:
            for event in events:
                await cast(Handler, self.handler)(conn, event)


class EventRouter:
    """Maps ce_type (the message's full proto name) to its message class and handler."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def on(self, message_type: type[M], handler: Callable[[asyncpg.Connection, Event[M]], Awaitable[None]]) -> None:
        self._add(Route(message_type, handler, batch=False))

    def on_batch(
        self, message_type: type[M], handler: Callable[[asyncpg.Connection, list[Event[M]]], Awaitable[None]]
    ) -> None:
        """Route a type to a set-based handler: it receives consecutive events of the type from
        one fetch (each partition's in offset order, so a key's events keep their order; already
        claimed, redeliveries removed) in one call, inside their shared transaction. When a
        batch fails and is settled one by one, it gets lists of one."""
        self._add(Route(message_type, handler, batch=True))

    def _add(self, route: Route) -> None:
        name = route.message_type.DESCRIPTOR.full_name
        if name in self._routes:
            raise ValueError(f"two handlers for {name}")
        self._routes[name] = route

    def route(self, event_type: str) -> Route | None:
        return self._routes.get(event_type)
