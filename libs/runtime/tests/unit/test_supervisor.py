"""A background loop that fails is restarted, and health says NOT_SERVING only while it waits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from grpc_health.v1 import health_pb2

from cohort_runtime import service
from cohort_runtime.service import ServiceDefinition, ServiceRuntime
from cohort_runtime.settings import ServiceSettings


def _runtime() -> ServiceRuntime:
    settings = ServiceSettings(
        service_name="t",
        COHORT_DATABASE_URL="postgresql://unused",
        db_schema="t",
        migrations_dir=Path("."),
    )
    return ServiceRuntime(ServiceDefinition(settings=settings, add_servicers=lambda _s, _r: []))


async def _health(rt: ServiceRuntime) -> int:
    reply = await rt._health.Check(health_pb2.HealthCheckRequest(service=""), None)
    return reply.status


async def test_a_failing_loop_is_restarted_and_health_follows(monkeypatch):
    rt = _runtime()
    waits: list[float] = []
    waiting, go_on = asyncio.Event(), asyncio.Event()

    async def pause(seconds: float) -> None:
        waits.append(seconds)
        waiting.set()
        await go_on.wait()
        go_on.clear()

    monkeypatch.setattr(service, "_pause", pause)
    calls = 0
    finished = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise ConnectionRefusedError("database restarting")
        finished.set()

    task = rt._supervise("sweeper", flaky)
    async with asyncio.timeout(10):  # a loop left dead would otherwise hang the test
        for _ in range(3):
            await waiting.wait()
            waiting.clear()
            assert await _health(rt) == health_pb2.HealthCheckResponse.NOT_SERVING, "not serving while it waits"
            go_on.set()
        await finished.wait()
        await task
    assert calls == 4 and waits == [0.5, 1.0, 2.0], "restarted with a growing backoff"
    assert await _health(rt) == health_pb2.HealthCheckResponse.SERVING
    assert rt.registry.get_sample_value("cohort_background_restarts_total", {"task": "sweeper"}) == 3


async def test_a_loop_that_fails_while_stopping_is_not_restarted(monkeypatch):
    rt = _runtime()
    rt._stopping = True

    async def broken() -> None:
        raise RuntimeError("bug")

    await rt._supervise("relay", broken)
    assert rt.registry.get_sample_value("cohort_background_restarts_total", {"task": "relay"}) is None
