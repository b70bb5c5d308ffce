"""A tasking service per test, experts with tokens, and projects published as intake would."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import projects_pb2 as project_events
from cohort.events.v1 import tasks_pb2 as task_events
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime import ServiceRuntime, testing
from cohort_runtime.clock import ManualClock
from cohort_runtime.tokens import issue_token
from cohort_tasking.bootstrap import definition
from cohort_tasking.config import TaskingSettings


def md(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class Tasking:
    def __init__(
        self, runtime: ServiceRuntime, channel: grpc.aio.Channel, keys: tuple[str, str], events, clock: ManualClock
    ) -> None:
        self.clock = clock
        self.runtime = runtime
        self.channel = channel
        self.pool = runtime.pool
        self.admin = experts_pb2_grpc.ExpertAdminServiceStub(channel)
        self.work = work_pb2_grpc.WorkServiceStub(channel)
        self.keys = keys
        self.events = events
        self.operator = md(issue_token(keys[0], kind="operator", subject="op"))

    def expert_md(self, expert_id: str, **kw) -> tuple[tuple[str, str], ...]:
        return md(issue_token(self.keys[0], kind="expert", subject=expert_id, **kw))

    async def register(self, expert_id: str | None = None, **profile) -> tuple[str, tuple[tuple[str, str], ...]]:
        expert_id = expert_id or f"exp_{uuid.uuid4().hex[:12]}"
        base = {
            "degree": types.DEGREE_LEVEL_DOCTORATE,
            "fields": ["chemistry.organic"],
            "languages": ["en"],
            "country": "DE",
            "timezone": "Europe/Berlin",
            "weekly_hours": 20,
        }
        base.update(profile)
        await self.admin.RegisterExpert(
            experts_pb2.RegisterExpertRequest(expert=experts_pb2.ExpertProfile(expert_id=expert_id, **base)),
            metadata=self.operator,
        )
        return expert_id, self.expert_md(expert_id)

    async def project(
        self, tasks: int = 3, overlap: int = 2, lease_seconds: float = 600, gold_every: int = 0, **spec
    ) -> str:
        pid = str(uuid.uuid4())
        deadline = Timestamp()
        deadline.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=7))
        lease = Duration()
        lease.FromTimedelta(dt.timedelta(seconds=lease_seconds))
        activated = project_events.ProjectActivated(
            project_id=pid,
            lab_id=str(uuid.uuid4()),
            data_kind=types.DATA_KIND_PREFERENCE,
            domain="chemistry.organic",
            qualifications=types.Qualifications(fields=["chemistry"]),
            instructions_markdown="rank",
            rubric=types.Rubric(criteria=[types.RubricCriterion(name="quality", weight=1, scale_min=1, scale_max=5)]),
            target_accepted_items=tasks,
            overlap=overlap,
            max_overlap=overlap,
            gold_rate=0.0,
            pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=100)),
            currency_code="EUR",
            budget_cap_minor=10**9,
            deadline=deadline,
            priority=10,
            lease_duration=lease,
        )
        for k, v in spec.items():
            if isinstance(getattr(activated, k), types.Qualifications):
                getattr(activated, k).CopyFrom(v)
            else:
                setattr(activated, k, v)
        # Tasks first, as happens when a lab adds tasks to a draft: slots appear once both are known.
        await self.add_tasks(pid, [f"t{i}" for i in range(tasks)], gold_every)
        await self.events.send("cohort.intake.projects.v1", pid, activated)
        # Gold tasks get a slot per lease, not shared ones.
        gold = len(range(0, tasks, gold_every)) if gold_every else 0
        await self.wait_slots(pid, (tasks - gold) * overlap)
        return pid

    async def add_tasks(self, project_id: str, task_ids: list[str], gold_every: int = 0) -> str:
        """Publish TasksAdded as intake would: preference tasks with candidates a and b; every
        `gold_every`-th (by position) gold. Returns the event's id."""
        added = task_events.TasksAdded(
            project_id=project_id,
            tasks=[
                task_events.AddedTask(
                    task_id=task_id,
                    is_gold=bool(gold_every) and i % gold_every == 0,
                    input=ttypes.TaskInput(
                        prompt=f"Which is better? #{task_id}",
                        candidates=[
                            ttypes.Candidate(candidate_id="a", content="A"),
                            ttypes.Candidate(candidate_id="b", content="B"),
                        ],
                    ),
                )
                for i, task_id in enumerate(task_ids)
            ],
        )
        return await self.events.send("cohort.intake.tasks.v1", project_id, added)

    async def handled(self, *event_ids: str, within: float = 30) -> None:
        """Until tasking's inbox has handled these events: what they change is then all there."""

        async def done() -> bool:
            n = await self.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", list(event_ids))
            return bool(n == len(event_ids))

        await testing.eventually(done, within, f"events {event_ids} handled")

    async def wait_slots(self, project_id: str, n: int, within: float = 30) -> None:
        async def opened() -> bool:
            got = await self.pool.fetchval("SELECT count(*) FROM slots WHERE project_id = $1::text::uuid", project_id)
            return bool(got >= n)

        await testing.eventually(opened, within, f"{n} slots of {project_id}")


@pytest.fixture
async def tasking(schema, token_keys, events):
    settings = TaskingSettings(
        db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=token_keys[1], sweep_seconds=0.2
    )
    clock = ManualClock()  # lease time moves when a test says so, not with the wall clock
    runtime = ServiceRuntime(definition(settings, clock))
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        yield Tasking(runtime, channel, token_keys, events, clock)
