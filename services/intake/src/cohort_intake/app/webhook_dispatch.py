"""Sends due webhook deliveries, signed per Standard Webhooks, and records every attempt.

Each endpoint's deliveries go one at a time, oldest first; endpoints are served side by side, so
a slow or dead receiver holds up only its own. A claimed delivery is leased for longer than an
attempt can take: a dispatcher that dies mid-attempt leaves it due again, and it is sent again
(receivers drop the copy by its webhook-id).

The destination is resolved and checked before every attempt (refusing private, loopback,
link-local and metadata addresses, checked on the resolved address so a DNS name cannot point a
lab's webhook into the platform's network), and the request goes to the checked address itself
(with the host's name for TLS and the Host header), so the name cannot be resolved differently
between check and connect. Redirects are not followed, and at most 64 KiB of an answer is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import socket
import time
import urllib.parse
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from cohort_intake.app.webhooks import seal_clear_secrets
from cohort_intake.db import webhooks as repo
from cohort_intake.domain.webhooks import refused_address, retry_delay
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.sealing import SecretBox, UnsealError, is_sealed

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]
MAX_ANSWER_BYTES = 65536
MAX_CLIENTS = 512


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class Refused(Exception):
    """The destination may not be sent to."""


class Unsigned(Exception):
    """The delivery cannot be signed (its endpoint's secret does not open)."""


class Dispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        metrics: IntakeMetrics,
        box: SecretBox | None,
        *,
        schedule: Sequence[float],
        allowed_networks: Sequence[str] = (),
        timeout_seconds: float = 10.0,
        concurrency: int = 64,
        poll_seconds: float = 0.2,
        clock: Clock = SYSTEM_CLOCK,
        resolver: Resolver = resolve,
    ) -> None:
        self._pool = pool
        self._metrics = metrics
        self._box = box
        self._schedule = tuple(schedule)
        self._allowed = tuple(allowed_networks)
        self._timeout = httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds))
        self._lease = dt.timedelta(seconds=timeout_seconds * 3 + 5)
        self._concurrency = concurrency
        self._poll = poll_seconds
        self._clock = clock
        self._resolve = resolver
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._busy: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._clients: OrderedDict[uuid.UUID, httpx.AsyncClient] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    async def run_forever(self) -> None:
        if self._box is not None:
            sealed = await seal_clear_secrets(self._pool, self._box)
            if sealed:
                log.info("sealed the clear-text signing secrets of %d webhook endpoints", sealed)
        try:
            while True:
                claimed = await self.dispatch_once()
                if claimed == 0:
                    await asyncio.sleep(self._poll)
        finally:
            for task in self._busy.values():
                task.cancel()
            for task in list(self._busy.values()):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for client in self._clients.values():
                await client.aclose()

    def _client(self, endpoint_id: uuid.UUID) -> httpx.AsyncClient:
        """A kept client (and so a kept connection) per endpoint, for the most recent endpoints:
        one pool shared by all makes every request scan every pooled connection."""
        client = self._clients.pop(endpoint_id, None)
        if client is None:
            client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
            while len(self._clients) >= MAX_CLIENTS:
                stale_id, stale = next(iter(self._clients.items()))
                if stale_id in self._busy:
                    break
                del self._clients[stale_id]
                closing = asyncio.create_task(stale.aclose())
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._clients[endpoint_id] = client
        return client

    async def dispatch_once(self) -> int:
        """Claim due deliveries of idle endpoints and start sending them; returns how many."""
        free = self._concurrency - len(self._busy)
        if free <= 0:
            await asyncio.wait(list(self._busy.values()), return_when=asyncio.FIRST_COMPLETED)
            return 0
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            due = await repo.claim_due(conn, free * 8, list(self._busy), now + self._lease, now)
        by_endpoint: dict[uuid.UUID, list[repo.Due]] = defaultdict(list)
        for d in due:
            by_endpoint[d.delivery.endpoint_id].append(d)
        for endpoint_id, batch in by_endpoint.items():
            client = self._client(endpoint_id)
            task = asyncio.create_task(self._send_in_order(client, batch), name=f"webhooks-{endpoint_id}")
            self._busy[endpoint_id] = task
            task.add_done_callback(self._done(endpoint_id))
        return len(due)

    def _done(self, endpoint_id: uuid.UUID) -> Callable[[asyncio.Task[None]], None]:
        def forget(task: asyncio.Task[None]) -> None:
            self._busy.pop(endpoint_id, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("sending to webhook endpoint %s failed", endpoint_id, exc_info=task.exception())

        return forget

    async def _send_in_order(self, client: httpx.AsyncClient, batch: list[repo.Due]) -> None:
        delivered: list[tuple[uuid.UUID, int, float]] = []
        destinations: dict[str, tuple[str, str]] = {}  # resolved and checked once per batch
        try:
            for i, due in enumerate(batch):
                started = time.perf_counter()
                status, error = await self._try(client, due, destinations)
                latency = time.perf_counter() - started
                self._metrics.webhook_seconds.observe(latency)
                if 200 <= status < 300:
                    delivered.append((due.delivery.delivery_id, status, latency * 1000))
                    self._metrics.webhook_attempts.labels("delivered").inc()
                    if due.delivery.attempts == 0:
                        self._metrics.webhook_lag.observe(
                            (self._clock.now() - due.delivery.create_time).total_seconds()
                        )
                    if len(delivered) >= 100:
                        await self._record_delivered(delivered)
                    continue
                retry_at = await self._record_failure(due, status, error or f"the receiver answered {status}", latency)
                # The receiver is failing: the rest wait for that retry rather than each failing
                # now (they keep their attempts; a failing endpoint holds them until re-enabled).
                later = [d.delivery.delivery_id for d in batch[i + 1 :]]
                async with self._pool.acquire() as conn:
                    await repo.postpone(conn, later, retry_at or self._clock.now())
                return
        finally:
            # Recorded in bulk: a crash before this sends them again (same webhook-id), never loses one.
            await self._record_delivered(delivered)

    async def _record_delivered(self, delivered: list[tuple[uuid.UUID, int, float]]) -> None:
        if delivered:
            async with self._pool.acquire() as conn:
                await repo.record_delivered(conn, delivered, self._clock.now())
            delivered.clear()

    async def _try(
        self, client: httpx.AsyncClient, due: repo.Due, destinations: dict[str, tuple[str, str]]
    ) -> tuple[int, str]:
        """(HTTP status or 0, what went wrong)."""
        try:
            if due.url not in destinations:
                destinations[due.url] = await self._destination(due.url)
            return await self._post(client, due, *destinations[due.url]), ""
        except (Refused, Unsigned) as exc:
            return 0, str(exc)
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except OSError as exc:  # name resolution and the like
            return 0, f"{type(exc).__name__}: {exc}"

    async def _record_failure(self, due: repo.Due, status: int, error: str, latency: float) -> dt.datetime | None:
        """Record a failed attempt; the time of the next one, None when the schedule is used up
        (then the endpoint is marked failing)."""
        d = due.delivery
        now = self._clock.now()
        attempts = d.attempts + 1
        delay = retry_delay(attempts, self._schedule, self._rng)
        next_at = now + dt.timedelta(seconds=delay) if delay is not None else None
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.record_failure(
                conn, d.delivery_id, status=status, error=error, latency_ms=latency * 1000, next_attempt_at=next_at
            )
            if next_at is None:
                reason = f"delivery {d.delivery_id} failed {attempts} times over the retry schedule; last: {error}"
                await repo.mark_failing(conn, d.endpoint_id, reason, now)
        if next_at is None:
            self._metrics.webhook_attempts.labels("failed").inc()
            log.warning("webhook endpoint %s marked failing: %s", d.endpoint_id, error)
        else:
            self._metrics.webhook_attempts.labels("retry").inc()
        return next_at

    def _signing_secrets(self, due: repo.Due) -> list[str]:
        """The endpoint's secrets in clear. Clear-text ones (stored before sealing, until the start-up
        pass seals them) are used as they are."""
        bound = str(due.delivery.endpoint_id)
        clear = []
        for stored in due.secrets:
            if not is_sealed(stored):
                clear.append(stored)
                continue
            if self._box is None:
                raise Unsigned("cannot sign: the platform has no key to open this endpoint's secret")
            try:
                clear.append(self._box.open(stored, bound))
            except UnsealError:
                raise Unsigned(
                    "cannot sign: this endpoint's stored secret fails its integrity check; rotate the secret"
                ) from None
        return clear

    async def _destination(self, url_text: str) -> tuple[str, str]:
        """(the URL with its host replaced by a checked address, the host's name); Refused if no
        address may be sent to."""
        url = urllib.parse.urlsplit(url_text)
        host = url.hostname or ""
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self._resolve(host, port)
        if not addresses:
            raise Refused(f"{host} does not resolve")
        for address in addresses:
            why = refused_address(address, self._allowed)
            if why:
                raise Refused(f"refused: {host} resolves to {why}")
        if url.scheme == "http" and refused_address(addresses[0], ()) is None:
            raise Refused("refused: plain http is only for allowed (test) networks; use https")
        literal = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
        target = urllib.parse.urlunsplit((url.scheme, f"{literal}:{port}", url.path or "/", url.query, ""))
        return target, host

    async def _post(self, client: httpx.AsyncClient, due: repo.Due, target: str, host: str) -> int:
        body = due.delivery.payload
        stamp = self._clock.now()
        signatures = " ".join(
            Webhook(secret).sign(due.delivery.message_id, stamp, body) for secret in self._signing_secrets(due)
        )
        headers = {
            "host": urllib.parse.urlsplit(due.url).netloc.rsplit("@", 1)[-1],
            "content-type": "application/json",
            "user-agent": "Cohort-Webhooks/1",
            "webhook-id": due.delivery.message_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": signatures,
        }
        request = client.build_request(
            "POST", target, content=body.encode(), headers=headers, extensions={"sni_hostname": host}
        )
        response = await client.send(request, stream=True)
        try:
            # Up to 64 KiB of the answer is read (and dropped), so the connection can carry the
            # next delivery; a receiver that sends more just has its connection closed.
            received = 0
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > MAX_ANSWER_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code
