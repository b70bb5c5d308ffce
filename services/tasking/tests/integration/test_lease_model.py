"""A stateful model test of the task queue: random sequences of acquire, heartbeat, release,
expiry and submit by several experts, checked against a model after every step.

Invariants: a slot is never leased twice at once; no slot is ever lost (open + leased +
submitted = all); an expert never holds two slots of one task; a submission needs a live lease of
its own expert; the model and the database agree on which assignment is live.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cohort.events.v1 import projects_pb2 as events
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.domain_errors import NotAllowed, NotFoundError, StateConflict
from cohort_runtime.testing import SyncDatabase
from cohort_tasking.app import catalog, work
from cohort_tasking.app.eligibility import EligibilityCache
from cohort_tasking.config import TaskingSettings
from cohort_tasking.domain.submissions import Payload
from cohort_tasking.domain.tasks import NewTask

EXPERTS = [f"exp_model{i:04d}" for i in range(4)]
PAYLOAD = Payload("sft", {"response": "an ideal answer"})
NO_CACHE = EligibilityCache(0)  # each example brings a new project: read eligibility every time


async def _register_experts(pool: asyncpg.Pool) -> None:
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as c:
        for e in EXPERTS:
            await c.execute(
                """INSERT INTO experts VALUES ($1, 4, '{chemistry}', '{}', '{en}', 'DE', 'UTC', 10, '{}', false,
                   'active', $2, $2) ON CONFLICT DO NOTHING""",
                e,
                now,
            )


@pytest.fixture(scope="module")
def harness(database_url):
    """One loop and pool for the whole test; each example gets a fresh project."""
    db = SyncDatabase(
        database_url,
        f"t_model_{uuid.uuid4().hex[:10]}",
        "tasking",
        TaskingSettings.model_fields["migrations_dir"].default,
    )
    db.run(_register_experts(db.pool))
    yield db
    db.close()


def test_queue_matches_its_model(harness):
    class QueueModel(RuleBasedStateMachine):
        @initialize(tasks=st.integers(1, 4), overlap=st.integers(1, 3))
        def project(self, tasks: int, overlap: int) -> None:
            self.pid = uuid.uuid4()
            # Even tasks are gold: they get a slot per lease (to every expert once), the rest
            # `overlap` shared slots.
            self.total = (tasks - (tasks + 1) // 2) * overlap
            self.gold_leases = 0
            self.live: dict[str, uuid.UUID] = {}  # expert -> live assignment
            self.held: set[tuple[str, str]] = set()  # (expert, task) ever leased
            self.submitted = 0
            self.keys: dict[uuid.UUID, tuple[str, uuid.UUID, uuid.UUID]] = {}
            self.ended: set[uuid.UUID] = set()
            harness.run(self._create(tasks, overlap))

        async def _create(self, tasks: int, overlap: int) -> None:
            deadline = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            m = events.ProjectActivated(
                project_id=str(self.pid),
                lab_id=str(uuid.uuid4()),
                data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
                domain="chemistry.organic",
                overlap=overlap,
                max_overlap=overlap,
                priority=100,
                gold_rate=0.5,
                rubric=types.Rubric(criteria=[types.RubricCriterion(name="q", weight=1, scale_min=1, scale_max=5)]),
            )
            m.deadline.FromDatetime(deadline)
            m.lease_duration.FromTimedelta(dt.timedelta(minutes=10))
            async with harness.pool.acquire() as conn, conn.transaction():
                # The experts are shared between examples: end what an earlier example left live.
                await conn.execute(
                    "UPDATE assignments SET state = 'released' WHERE state = 'active' AND expert_id = ANY($1::text[])",
                    EXPERTS,
                )
                await catalog.tasks_added(
                    conn,
                    self.pid,
                    [
                        NewTask(f"t{i}", ttypes.TaskInput(prompt=f"p{i}").SerializeToString(), i % 2 == 0)
                        for i in range(tasks)
                    ],
                )
                await catalog.project_activated(conn, m)

        async def _task_of(self, assignment_id: uuid.UUID) -> str:
            return await harness.pool.fetchval(
                "SELECT task_id FROM assignments WHERE assignment_id = $1", assignment_id
            )

        @rule(expert=st.sampled_from(EXPERTS))
        def acquire(self, expert: str) -> None:
            # A fixed random source: hypothesis replays a failing sequence and must see the same choices.
            lease = harness.run(work.acquire(harness.pool, expert, NO_CACHE, only=self.pid, rng=random.Random(0)))
            if expert in self.live:
                assert lease is not None and lease.assignment.assignment_id == self.live[expert], "retry, same lease"
                return
            if lease is None:
                return
            a = lease.assignment
            assert (expert, a.task_id) not in self.held, "never two slots of one task for one expert"
            self.held.add((expert, a.task_id))
            self.live[expert] = a.assignment_id
            self.gold_leases += int(a.task_id[1:]) % 2 == 0

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def heartbeat(self, data: st.DataObject) -> None:
            expert = data.draw(st.sampled_from(sorted(self.live)))
            harness.run(work.heartbeat(harness.pool, expert, self.live[expert]))

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def release(self, data: st.DataObject) -> None:
            expert = data.draw(st.sampled_from(sorted(self.live)))
            harness.run(work.release(harness.pool, expert, self.live[expert]))
            self.ended.add(self.live.pop(expert))

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def expire(self, data: st.DataObject) -> None:
            expert = data.draw(st.sampled_from(sorted(self.live)))
            aid = self.live.pop(expert)
            harness.run(
                harness.pool.execute(
                    "UPDATE assignments SET expire_time = now() - interval '1 second' WHERE assignment_id = $1", aid
                )
            )
            harness.run(work.expire_due(harness.pool))
            self.ended.add(aid)

        @precondition(lambda self: self.live)
        @rule(data=st.data())
        def submit(self, data: st.DataObject) -> None:
            expert = data.draw(st.sampled_from(sorted(self.live)))
            aid, request_id = self.live[expert], uuid.uuid4()
            submission_id = harness.run(work.submit(harness.pool, expert, aid, PAYLOAD, b"", request_id))
            self.keys[aid] = (expert, request_id, submission_id)
            self.ended.add(self.live.pop(expert))
            self.submitted += 1

        @precondition(lambda self: self.keys)
        @rule(data=st.data())
        def retry_submit(self, data: st.DataObject) -> None:
            """A retry with the first call's request_id returns its submission and stores nothing."""
            aid = data.draw(st.sampled_from(sorted(self.keys)))
            expert, request_id, submission_id = self.keys[aid]
            again = harness.run(work.submit(harness.pool, expert, aid, PAYLOAD, b"", request_id))
            assert again == submission_id

        @precondition(lambda self: self.ended or self.live)
        @rule(data=st.data(), intruder=st.sampled_from(EXPERTS))
        def misuse(self, data: st.DataObject, intruder: str) -> None:
            """Submitting an ended lease, or someone else's, changes nothing."""
            pool_of = sorted(self.ended | set(self.live.values()))
            aid = data.draw(st.sampled_from(pool_of))
            owner = next((e for e, a in self.live.items() if a == aid), None)
            if owner == intruder:
                return
            with pytest.raises((StateConflict, NotAllowed, NotFoundError)):
                harness.run(work.submit(harness.pool, intruder, aid, PAYLOAD, b""))

        @invariant()
        def database_agrees_with_model(self) -> None:
            if not hasattr(self, "pid"):
                return
            counts = harness.run(
                harness.pool.fetch(
                    """SELECT s.is_gold, count(DISTINCT s.slot_id) FILTER (WHERE s.open) AS open,
                              count(DISTINCT s.slot_id) AS total,
                              count(a.assignment_id) FILTER (WHERE a.state = 'active') AS live,
                              count(DISTINCT a.slot_id) FILTER (WHERE a.state = 'active') AS live_slots,
                              count(a.assignment_id) FILTER (WHERE a.state = 'submitted') AS submitted
                       FROM slots s LEFT JOIN assignments a ON a.slot_id = s.slot_id
                       WHERE s.project_id = $1 GROUP BY s.is_gold""",
                    self.pid,
                )
            )
            by_kind = {r["is_gold"]: r for r in counts}
            live = sum(r["live"] for r in counts)
            submitted = harness.run(
                harness.pool.fetchval("SELECT count(*) FROM submissions WHERE project_id = $1", self.pid)
            )
            assert live == len(self.live) == sum(r["live_slots"] for r in counts), "one live lease per slot"
            assert submitted == self.submitted
            shared = by_kind.get(False)
            if shared is not None or self.total:
                assert shared is not None and shared["total"] == self.total
                assert shared["open"] + shared["live"] + shared["submitted"] == self.total, "no slot lost or duplicated"
            gold = by_kind.get(True)
            assert (gold["total"] if gold else 0) == self.gold_leases, "a gold slot per gold lease, never reused"
            assert gold is None or gold["open"] == 0, "a gold slot belongs to its lease alone"

    QueueModel.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    QueueModel.TestCase().runTest()
