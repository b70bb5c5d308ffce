"""Fixtures shared by every test suite in the repository.

Integration tests run against the real PostgreSQL and Kafka named by COHORT_DATABASE_URL and
COHORT_KAFKA_BOOTSTRAP (`make test` starts a local pair and sets both). Each test gets its own
schema and uniquely named topics, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from cohort_runtime.kafka import ensure_topics
from cohort_runtime.tokens import generate_keypair

INTEGRATION_DIRS = ("integration", "tests")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        parts = Path(item.fspath).relative_to(root).parts
        if "integration" in parts or parts[0] == "tests":
            item.add_marker(pytest.mark.integration)


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the suite with `make test`, or start `make up` and "
            f'`eval "$(deploy/local/stack.sh env)"`',
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def database_url() -> str:
    return _require("COHORT_DATABASE_URL")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _require("COHORT_KAFKA_BOOTSTRAP")


@pytest.fixture
def unique() -> Callable[[str], str]:
    """unique('prefix') -> a name no other test uses (schemas, topics, groups)."""
    return lambda prefix: f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def schema(database_url: str, unique: Callable[[str], str]) -> AsyncIterator[str]:
    """A schema name of this test's own; dropped afterwards."""
    name = unique("t")
    yield name
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def topics(
    kafka_bootstrap: str, unique: Callable[[str], str], isolated_consumer_groups: str
) -> Callable[..., object]:
    """await topics(n) -> n new topic names, created (with their .dlq) on the broker and deleted
    with the test's other topics afterwards."""

    async def make(n: int = 1, partitions: int = 1) -> list[str]:
        names = [f"{isolated_consumer_groups}.{unique('topic')}".replace("_", "-") for _ in range(n)]
        await ensure_topics(
            kafka_bootstrap,
            [*names, *(f"{t}.dlq" for t in names)],
            partitions=partitions,
            replication=1,
            client_id="tests",
        )
        return names

    return make


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="tests-cleanup")
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix + ".")]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


@pytest.fixture(autouse=True)
async def _topics_deleted_afterwards(isolated_consumer_groups: str) -> AsyncIterator[None]:
    """A kept local broker would otherwise collect every run's topics (thousands of partitions
    after a few dozen runs, until it runs out of heap)."""
    yield
    bootstrap = os.environ.get("COHORT_KAFKA_BOOTSTRAP")
    if bootstrap:
        await _delete_topics(bootstrap, isolated_consumer_groups)


@pytest.fixture(autouse=True)
def isolated_consumer_groups(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every service a test starts (in-process or as a child process) consumes in groups of its
    own, never in the groups of a `make up` stack or of another test."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    for service in ("INTAKE", "TASKING", "QA", "PAYOUT"):
        monkeypatch.setenv(f"COHORT_{service}_KAFKA_GROUP_PREFIX", f"{prefix}-{service.lower()}")
    # Topics of their own too: a consumer never wades through other tests' (or benchmarks') events.
    monkeypatch.setenv("COHORT_TOPIC_PREFIX", f"{prefix}.")
    return prefix


class EventPublisher:
    """Publishes events the way a service's outbox relay does (CloudEvents headers, protobuf
    value): tests use it to stand in for a service that is not under test."""

    def __init__(self, producer) -> None:
        self.producer = producer

    async def send(self, topic: str, key: str, message, event_id: str | None = None) -> str:
        import datetime as dt

        from cohort_runtime.cloudevents import EventAttributes

        event_id = event_id or str(uuid.uuid4())
        headers = EventAttributes(
            id=event_id, type=message.DESCRIPTOR.full_name, source="/tests", time=dt.datetime.now(dt.UTC)
        ).to_headers()
        topic = os.environ.get("COHORT_TOPIC_PREFIX", "") + topic  # the test's own topic namespace
        await self.producer.send_and_wait(topic, message.SerializeToString(), key=key.encode(), headers=headers)
        return event_id


@pytest.fixture
async def events(kafka_bootstrap: str) -> AsyncIterator[EventPublisher]:
    from cohort_runtime.kafka import make_producer

    producer = make_producer(kafka_bootstrap, "tests")
    await producer.start()
    try:
        yield EventPublisher(producer)
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
def token_keys() -> tuple[str, str]:
    """(private PEM, public PEM) for signing test tokens."""
    return generate_keypair()
