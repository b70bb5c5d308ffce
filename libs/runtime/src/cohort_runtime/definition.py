"""What a service hands the chassis: its servicers, authenticator, topics, consumers and
background jobs, each built from the `Resources` the chassis makes (settings, pool, registry)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import grpc
from prometheus_client import CollectorRegistry

from cohort_runtime.auth import Authenticator
from cohort_runtime.event_routing import EventRouter
from cohort_runtime.settings import ServiceSettings


@dataclass(frozen=True)
class Subscription:
    """One consumer of a service: its group suffix, the topics it reads and its handlers."""

    name: str
    topics: list[str]
    router: EventRouter
    # Records per fetch: larger fetches mean larger batches for set-based (on_batch) handlers.
    max_records: int = 200


@dataclass
class Resources:
    """What a service's gRPC servicers and handlers are built from."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    registry: CollectorRegistry


ServicerFactory = Callable[[grpc.aio.Server, Resources], list[str]]
"""Adds the service's servicers to the server; returns their full service names."""


@dataclass
class ServiceDefinition:
    settings: ServiceSettings
    add_servicers: ServicerFactory
    # Built once the pool exists, so an authenticator can look credentials up in the database.
    authenticator: Callable[[Resources], Authenticator] | None = None
    publishes: list[str] = field(default_factory=list)
    subscriptions: Callable[[Resources], list[Subscription]] = lambda _r: []
    background: Callable[[Resources], list[Callable[[], Coroutine[Any, Any, None]]]] = lambda _r: []
