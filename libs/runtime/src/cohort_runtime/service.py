"""The life of one service process: start every part in order, stop them gracefully in reverse.

Start: Postgres pool, migrations, declared topics, producer, `/metrics`, gRPC server (health,
reflection, interceptors), outbox relay, inbox consumers. Stop (SIGTERM): health NOT_SERVING so
load balancers drain us, `server.stop(grace)` lets in-flight RPCs finish, consumers finish their
batch and commit, the relay stops, the producer flushes, the pool closes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg
import grpc
from aiokafka import AIOKafkaProducer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry, Counter, start_http_server

from cohort_runtime import paging
from cohort_runtime._request_guard import RequestGuardInterceptor
from cohort_runtime.auth import auth_interceptor
from cohort_runtime.db import create_pool
from cohort_runtime.definition import Resources, ServiceDefinition, Subscription
from cohort_runtime.grpc_errors import error_interceptor
from cohort_runtime.grpc_metrics import GrpcServerMetrics
from cohort_runtime.inbox import InboxConsumer, InboxMetrics
from cohort_runtime.inbox_retention import purge_inbox_forever
from cohort_runtime.kafka import dlq_topic, ensure_topics, make_producer
from cohort_runtime.logs import configure_logging
from cohort_runtime.migrations import Migration, Routine, migrate, migrations_in, runtime_migrations
from cohort_runtime.outbox import OutboxMetrics, OutboxRelay
from cohort_runtime.quotas import EdgeLimits, FailureThrottle, RateLimiter, TrustedProxies
from cohort_runtime.settings import ServiceSettings
from cohort_runtime.telemetry import configure_tracing
from cohort_runtime.tls import server_credentials
from cohort_runtime.transient import RETRY_MAX_SECONDS, is_transient

__all__ = ["Resources", "ServiceDefinition", "ServiceRuntime", "Subscription", "migrate_only", "serve"]

log = logging.getLogger(__name__)

# A failed background loop restarts after 0.5 s, then 1, 2 and every 3 s; one that ran a minute
# before failing starts the sequence afresh. The cap keeps recovery from an outage within ~3 s.
_RESTART_FIRST_SECONDS = 0.5
_RESTART_MAX_SECONDS = RETRY_MAX_SECONDS
_RESTART_RESET_AFTER_SECONDS = 60.0
# How the supervisor waits between restarts; a test replaces it to step through restarts.
_pause = asyncio.sleep


class ServiceRuntime:
    """Runs one service; use `async with ServiceRuntime(definition) as rt:` or `serve_forever()`."""

    def __init__(self, definition: ServiceDefinition) -> None:
        self.definition = definition
        self.settings = definition.settings
        self.registry = CollectorRegistry()
        self.grpc_port = 0
        self.metrics_port = 0
        self._pool: asyncpg.Pool | None = None
        self._producer: AIOKafkaProducer | None = None
        self._server: grpc.aio.Server | None = None
        self._health = HealthServicer()
        self._service_names: list[str] = []
        self._relay: OutboxRelay | None = None
        self._consumers: list[InboxConsumer] = []
        self._tasks: list[asyncio.Task[Any]] = []
        # Jobs that run until cancelled (e.g. a LISTEN fan-out); stopped after the server drained.
        self._background: list[asyncio.Task[Any]] = []
        self._metrics_httpd: Any = None
        self._stopping = False
        # Supervised loops now waiting to restart; while any is, health says NOT_SERVING.
        self._failing: set[str] = set()
        self._restarts = Counter(
            "cohort_background_restarts_total",
            "Background loops (relay, consumers, sweepers) restarted after they failed.",
            ["task"],
            registry=self.registry,
        )

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("service not started")
        return self._pool

    def migrations(self) -> list[Migration | Routine]:
        return [
            *runtime_migrations(),
            *migrations_in(self.settings.service_name, self.settings.migrations_dir),
        ]

    async def start(self) -> None:
        s = self.settings
        paging.use_secret(s.page_token_secret.get_secret_value() if s.page_token_secret else None)
        self._pool = await create_pool(
            s.database_url.get_secret_value(),
            s.db_schema,
            application_name=s.service_name,
            min_size=s.db_pool_min,
            max_size=s.db_pool_max,
        )
        async with self._pool.acquire() as conn:
            await migrate(conn, s.db_schema, self.migrations())
        resources = Resources(settings=s, pool=self._pool, registry=self.registry)
        subscriptions = self.definition.subscriptions(resources)
        # A service that neither publishes nor consumes (the workbench) has no business with Kafka:
        # it starts, and stays up, without a broker.
        if self.definition.publishes or subscriptions:
            await self._start_kafka(subscriptions)

        self._metrics_httpd, _thread = start_http_server(s.metrics_port, s.metrics_host, registry=self.registry)
        self.metrics_port = self._metrics_httpd.server_port

        await self._start_grpc(resources)

        if self._producer is not None:
            self._start_relay()
        await self._start_consumers(subscriptions)
        for i, job in enumerate(self.definition.background(resources)):
            self._background.append(self._supervise(f"{s.service_name}-background-{i}", job))
        await self._set_health()  # SERVING, unless a loop already failed
        log.info(
            "%s serving gRPC on %s:%d, metrics on %s:%d",
            s.service_name,
            s.grpc_host,
            self.grpc_port,
            s.metrics_host,
            self.metrics_port,
        )

    async def _start_kafka(self, subscriptions: list[Subscription]) -> None:
        """The topics this service publishes and consumes (and their dead-letter topics), and its producer."""
        s = self.settings
        prefix = s.topic_prefix
        consumed = [prefix + t for sub in subscriptions for t in sub.topics]
        await ensure_topics(
            s.kafka_bootstrap,
            [*(prefix + t for t in self.definition.publishes), *consumed, *(dlq_topic(t) for t in consumed)],
            partitions=s.kafka_partitions,
            replication=s.kafka_replication,
            client_id=s.service_name,
            security=s.kafka_security(),
        )
        self._producer = make_producer(s.kafka_bootstrap, s.service_name, s.kafka_security())
        await self._producer.start()

    async def _start_consumers(self, subscriptions: list[Subscription]) -> None:
        s = self.settings
        assert self._pool is not None  # noqa: S101 - called after the pool started
        inbox_metrics = InboxMetrics(self.registry)
        for sub in subscriptions:
            consumer = InboxConsumer(
                self._pool,
                bootstrap=s.kafka_bootstrap,
                consumer=f"{s.kafka_group_prefix or s.service_name}.{sub.name}",
                topics=[s.topic_prefix + t for t in sub.topics],
                router=sub.router,
                dlq_producer=self._producer,
                metrics=inbox_metrics,
                max_attempts=s.inbox_max_attempts,
                max_records=sub.max_records,
                fetch_min_bytes=s.kafka_fetch_min_bytes,
                fetch_max_wait_ms=s.kafka_fetch_max_wait_ms,
                security=s.kafka_security(),
            )
            await consumer.start()
            self._consumers.append(consumer)
            self._tasks.append(self._supervise(consumer.name, consumer.run))
        if subscriptions:
            # A background job (cancelled at stop): among the consumers it was waited for, and every
            # stop lasted the whole grace period.
            pool, retention = self._pool, s.inbox_retention_hours * 3600
            self._background.append(
                self._supervise(f"{s.service_name}-inbox-retention", lambda: purge_inbox_forever(pool, retention))
            )

    def _start_relay(self) -> None:
        s = self.settings
        assert self._pool is not None and self._producer is not None  # noqa: S101 - called after both started
        self._relay = OutboxRelay(
            self._pool,
            self._producer,
            schema=s.db_schema,
            source=f"/cohort/{s.service_name}",
            metrics=OutboxMetrics(self.registry),
            poll_seconds=s.outbox_poll_seconds,
            retention_seconds=s.outbox_retention_hours * 3600,
            topic_prefix=s.topic_prefix,
        )
        self._tasks.append(self._supervise(f"{s.service_name}-outbox-relay", self._relay.run))

    async def _start_grpc(self, resources: Resources) -> None:
        s = self.settings
        metrics = GrpcServerMetrics(self.registry)
        # Order matters: metrics sees the final status code, errors maps what auth and servicers raise.
        interceptors = [metrics.interceptor(), error_interceptor()]
        if self.definition.authenticator is not None:
            limits = EdgeLimits(
                requests=RateLimiter(s.rate_limit_per_second, s.rate_limit_burst),
                failures=FailureThrottle(s.auth_failures_per_minute, 60.0),
                proxies=TrustedProxies(s.trusted_proxies),
            )
            interceptors.append(auth_interceptor(self.definition.authenticator(resources), limits))
        # Innermost: a request refused for its bytes or its limits is refused after authentication.
        interceptors.append(RequestGuardInterceptor(self.registry))
        self._server = grpc.aio.server(interceptors=interceptors)
        self._service_names = self.definition.add_servicers(self._server, resources)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            [
                *self._service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self._server,
        )
        credentials = server_credentials(s.tls_cert_file, s.tls_key_file, s.tls_client_ca_file)
        address = f"{s.grpc_host}:{s.grpc_port}"
        if credentials is None:
            self.grpc_port = self._server.add_insecure_port(address)
        else:
            self.grpc_port = self._server.add_secure_port(address, credentials)
        await self._server.start()

    def _supervise(self, name: str, job: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
        """Run `job` until it returns; if it raises, report NOT_SERVING, back off and run it again.

        A relay, consumer or sweeper that died on a database restart or a rebalance would leave
        the process up and the pipeline silently stopped; each loop also handles the failures it
        expects, and this is the net under all of them."""

        async def supervised() -> None:
            backoff = _RESTART_FIRST_SECONDS
            while True:
                began = time.monotonic()
                try:
                    await job()
                    return
                except Exception as exc:  # the boundary that keeps a loop alive
                    if self._stopping:
                        return
                    if time.monotonic() - began > _RESTART_RESET_AFTER_SECONDS:
                        backoff = _RESTART_FIRST_SECONDS
                    if is_transient(exc):
                        log.warning("%s stopped (%s: %s); restarting in %.1fs", name, type(exc).__name__, exc, backoff)
                    else:
                        log.exception("%s died; restarting in %.1fs", name, backoff)
                    self._restarts.labels(name).inc()
                    self._failing.add(name)
                    await self._set_health()
                    await _pause(backoff)
                    backoff = min(backoff * 2, _RESTART_MAX_SECONDS)
                    self._failing.discard(name)
                    await self._set_health()

        return asyncio.create_task(supervised(), name=name)

    async def _set_health(self) -> None:
        if self._stopping:
            return
        status = health_pb2.HealthCheckResponse.NOT_SERVING if self._failing else health_pb2.HealthCheckResponse.SERVING
        for name in ["", *self._service_names]:
            await self._health.set(name, status)

    async def stop(self) -> None:
        s = self.settings
        self._stopping = True
        await self._health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(s.shutdown_grace_seconds)
        # Everything after the RPCs shares one more grace period. With the database or the broker
        # away a loop, a producer flush or a consumer leaving its group can wait indefinitely; what
        # has not finished by then is abandoned (nothing is lost: the outbox and the uncommitted
        # offsets are picked up by the next replica), so a stop never outlasts the pod's grace.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + s.shutdown_grace_seconds

        def left() -> float:
            return max(0.5, deadline - loop.time())

        for job in self._background:
            job.cancel()
        for consumer in self._consumers:
            await consumer.stop()
        if self._relay is not None:
            await self._relay.stop()
        if self._background:
            await self._finish(self._background, left(), "background jobs")
        pending: set[asyncio.Task[Any]] = set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=left())
        for task in pending:
            task.cancel()
        if pending:
            await self._finish(list(pending), left(), "consumers and relay")
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), left())  # flushes what is buffered
            except TimeoutError:
                log.warning("the Kafka producer did not flush within the grace period; abandoned")
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), left())
            except TimeoutError:
                log.warning("database connections did not close within the grace period; terminated")
                self._pool.terminate()
        if self._metrics_httpd is not None:
            self._metrics_httpd.shutdown()
            self._metrics_httpd.server_close()
        log.info("%s stopped", s.service_name)

    @staticmethod
    async def _finish(tasks: list[asyncio.Task[Any]], seconds: float, what: str) -> None:
        _done, stuck = await asyncio.wait(tasks, timeout=seconds)
        if stuck:
            log.warning("%d %s did not stop within the grace period (a dependency away?); abandoned", len(stuck), what)

    async def __aenter__(self) -> ServiceRuntime:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with self:
            await stop.wait()
            log.info("%s received a stop signal; draining", self.settings.service_name)


async def migrate_only(settings: ServiceSettings) -> list[str]:
    """Apply the service's pending migrations and return (`python -m cohort_<svc> migrate`): what a
    deployment's pre-upgrade hook runs, so new pods start against the schema they expect."""
    configure_logging(settings.service_name, settings.log_level)
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        applied = await migrate(
            conn,
            settings.db_schema,
            [*runtime_migrations(), *migrations_in(settings.service_name, settings.migrations_dir)],
        )
    finally:
        await conn.close()
    log.info("%s migrations applied: %s", settings.service_name, ", ".join(applied) or "none pending")
    return applied


async def serve(definition: ServiceDefinition) -> None:
    """A service's `main()`: logs and tracing for the process, then run until SIGTERM."""
    s = definition.settings
    configure_logging(s.service_name, s.log_level)
    configure_tracing(s.service_name, s.otlp_endpoint, s.trace_sample_ratio)
    await ServiceRuntime(definition).serve_forever()
