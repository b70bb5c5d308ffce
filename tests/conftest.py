"""Fixtures of the cross-service tests: the services running in this process, each on its own
schema (dropped afterwards), and a polling helper for what arrives by event."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from cohort_intake.bootstrap import definition as intake_definition
from cohort_intake.config import IntakeSettings
from cohort_payout.bootstrap import definition as payout_definition
from cohort_payout.config import PayoutSettings
from cohort_qa.bootstrap import definition as qa_definition
from cohort_qa.config import QASettings
from cohort_runtime import ServiceRuntime
from cohort_tasking.bootstrap import definition as tasking_definition
from cohort_tasking.config import TaskingSettings

_SERVICES: dict[str, tuple[Any, Any]] = {
    "intake": (IntakeSettings, intake_definition),
    "tasking": (TaskingSettings, tasking_definition),
    "qa": (QASettings, qa_definition),
    "payout": (PayoutSettings, payout_definition),
}

Eventually = Callable[..., Awaitable[Any]]


@pytest.fixture
def eventually() -> Eventually:
    """await eventually(check, within=45): the first truthy value of `await check()`, polled."""

    async def poll(check: Callable[[], Awaitable[Any]], within: float = 45.0) -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError("condition not reached in time")

    return poll


@pytest.fixture
def fast_experts() -> dict[str, Any]:
    """QA settings for test experts, who answer within milliseconds: the pace check let through."""
    return {"min_seconds": 0, "max_typing_chars_per_second": 1e9, "max_reading_chars_per_second": 1e9}


@pytest.fixture
def services(
    database_url: str, token_keys: tuple[str, str], unique: Callable[[str], str]
) -> Callable[..., contextlib.AbstractAsyncContextManager[dict[str, ServiceRuntime]]]:
    """`async with services("intake", "tasking", qa={...settings}) as running:` starts the named
    services (in that order) with their own schemas; `running["qa"].grpc_port` and so on."""

    @contextlib.asynccontextmanager
    async def start(*names: str, **overrides: dict[str, Any]) -> AsyncIterator[dict[str, ServiceRuntime]]:
        schemas = {name: unique(name) for name in names}
        running: dict[str, ServiceRuntime] = {}
        try:
            async with contextlib.AsyncExitStack() as stack:
                for name in names:
                    settings_type, definition = _SERVICES[name]
                    settings = settings_type(
                        db_schema=schemas[name],
                        grpc_port=0,
                        metrics_port=0,
                        COHORT_TOKEN_PUBLIC_KEY=token_keys[1],
                        **overrides.get(name, {}),
                    )
                    running[name] = await stack.enter_async_context(ServiceRuntime(definition(settings)))
                yield running
        finally:
            conn = await asyncpg.connect(database_url)
            try:
                for schema in schemas.values():
                    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                await conn.close()

    return start
