"""A QA service per test, and the events of intake and tasking it judges, sent over Kafka."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import experts_pb2 as expert_events
from cohort.events.v1 import projects_pb2 as project_events
from cohort.events.v1 import submissions_pb2
from cohort.events.v1 import tasks_pb2 as task_events
from cohort.qa.v1 import disputes_pb2_grpc, quality_pb2_grpc, reviews_pb2_grpc, verdicts_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_qa.bootstrap import definition
from cohort_qa.config import QASettings
from cohort_runtime import ServiceRuntime, testing
from cohort_runtime.tokens import issue_token

KINDS = {
    "sft": types.DATA_KIND_SFT_DEMONSTRATION,
    "preference": types.DATA_KIND_PREFERENCE,
    "rubric_grade": types.DATA_KIND_RUBRIC_GRADE,
}
PROMPT = "Which answer explains the result better?"
CANDIDATES = (
    ("a", "The reaction is exothermic because bond formation releases more energy than bond breaking absorbs."),
    ("b", "It gets hot."),
)


def md(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def sft(text: str) -> sub.SubmissionPayload:
    return sub.SubmissionPayload(sft=sub.SftSubmission(response=text))


def pref(*ranking: str) -> sub.SubmissionPayload:
    return sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=list(ranking)))


def grade(**scores: int) -> sub.SubmissionPayload:
    return sub.SubmissionPayload(rubric_grade=sub.RubricGradeSubmission(scores=scores))


class QA:
    def __init__(self, runtime: ServiceRuntime, channel: grpc.aio.Channel, keys: tuple[str, str], events) -> None:
        self.runtime = runtime
        self.pool = runtime.pool
        self.reviews = reviews_pb2_grpc.ReviewServiceStub(channel)
        self.quality = quality_pb2_grpc.QualityServiceStub(channel)
        self.verdicts = verdicts_pb2_grpc.ExpertVerdictServiceStub(channel)
        self.disputes = disputes_pb2_grpc.DisputeServiceStub(channel)
        self.keys = keys
        self.events = events
        self.operator = md(issue_token(keys[0], kind="operator", subject="op"))

    def token(self, kind: str, subject: str, *roles: str) -> tuple[tuple[str, str], ...]:
        return md(issue_token(self.keys[0], kind=kind, subject=subject, roles=roles))

    async def person(
        self,
        expert_id: str,
        *,
        reviewer: bool = True,
        active: bool = True,
        blocked_lab_ids: tuple[str, ...] = (),
        degree: int = types.DEGREE_LEVEL_DOCTORATE,
        fields: tuple[str, ...] = ("chemistry.organic",),
        languages: tuple[str, ...] = ("en",),
    ) -> None:
        """What tasking publishes about a person (ExpertProfileChanged), once QA has it."""
        changed = Timestamp()
        changed.FromDatetime(dt.datetime.now(dt.UTC))
        m = expert_events.ExpertProfileChanged(
            expert_id=expert_id, degree=degree, fields=fields, languages=languages,  # type: ignore[arg-type]
            blocked_lab_ids=blocked_lab_ids, reviewer=reviewer, active=active, change_time=changed,
        )  # fmt: skip
        await self.events.send("cohort.tasking.experts.v1", expert_id, m)
        await self.until(
            lambda: self.pool.fetchval(
                "SELECT changed_at = $2 FROM reviewer_profiles WHERE expert_id = $1",
                expert_id,
                changed.ToDatetime(dt.UTC),
            ),
            f"profile of {expert_id} known",
        )

    async def reviewer(self, expert_id: str, **profile) -> tuple[tuple[str, str], ...]:
        """A registered reviewer's credentials."""
        await self.person(expert_id, **profile)
        return self.token("expert", expert_id, "reviewer")

    async def project(
        self,
        kind: str = "preference",
        tasks: int = 3,
        overlap: int = 1,
        max_overlap: int | None = None,
        review_rate: float = 0.0,
        minimum_quality: float = 0.0,
        gold: dict[str, ttypes.GoldReference] | None = None,
        lab_id: str | None = None,
        project_id: str | None = None,
        qualifications: types.Qualifications | None = None,
    ) -> str:
        pid = project_id or str(uuid.uuid4())
        added = task_events.TasksAdded(
            project_id=pid,
            tasks=[
                task_events.AddedTask(
                    task_id=f"t{i}",
                    is_gold=f"t{i}" in (gold or {}),
                    input=ttypes.TaskInput(
                        prompt=f"{PROMPT} #{i}",
                        candidates=[ttypes.Candidate(candidate_id=c, content=t) for c, t in CANDIDATES],
                    ),
                )
                for i in range(tasks)
            ],
        )
        await self.events.send("cohort.intake.tasks.v1", pid, added)
        if gold:
            refs = [task_events.GoldTaskReference(task_id=t, reference=r) for t, r in gold.items()]
            await self.events.send(
                "cohort.intake.gold.v1", pid, task_events.GoldReferencesAdded(project_id=pid, references=refs)
            )
        activated = project_events.ProjectActivated(
            project_id=pid,
            lab_id=lab_id or str(uuid.uuid4()),
            data_kind=KINDS[kind],
            domain="chemistry.organic",
            qualifications=qualifications or types.Qualifications(minimum_quality=minimum_quality),
            rubric=types.Rubric(
                criteria=[
                    types.RubricCriterion(name="accuracy", weight=0.7, scale_min=1, scale_max=5),
                    types.RubricCriterion(name="clarity", weight=0.3, scale_min=1, scale_max=5),
                ]
            ),
            rubric_version=2,
            instructions_version=3,
            overlap=overlap,
            max_overlap=max_overlap or overlap,
            review_sample_rate=review_rate,
        )
        await self.events.send("cohort.intake.projects.v1", pid, activated)
        await self.until(
            lambda: self.pool.fetchval(
                """SELECT count(*) = $2 FROM tasks t JOIN projects p USING (project_id)
                   WHERE project_id = $1::text::uuid""",
                pid,
                tasks,
            ),
            f"project {pid} known",
        )
        return pid

    async def submit(
        self,
        project_id: str,
        task_id: str,
        expert_id: str,
        payload: sub.SubmissionPayload,
        *,
        active_seconds: int = 600,
        is_gold: bool = False,
        submission_id: str | None = None,
        event_id: str | None = None,
        shown_order: tuple[str, ...] = (),
        task_revision: int = 0,
    ) -> str:
        submission_id = submission_id or str(uuid.uuid4())
        now = Timestamp()
        now.FromDatetime(dt.datetime.now(dt.UTC))
        created = submissions_pb2.SubmissionCreated(
            submission_id=submission_id,
            project_id=project_id,
            task_id=task_id,
            submit_time=now,
            expert_id=expert_id,
            assignment_id=str(uuid.uuid4()),
            payload=payload,
            acquire_time=now,
            active_seconds=active_seconds,
            is_gold=is_gold,
            shown_order=shown_order,
            task_revision=task_revision,
        )
        await self.events.send("cohort.tasking.submissions.v1", task_id, created, event_id=event_id)
        return submission_id

    async def state(self, submission_id: str, *states: str) -> str:
        async def reached():
            s = await self.pool.fetchval(
                "SELECT state FROM submissions WHERE submission_id = $1::text::uuid", submission_id
            )
            return s in states

        await self.until(reached, f"{submission_id} in {states}")
        return await self.pool.fetchval(
            "SELECT state FROM submissions WHERE submission_id = $1::text::uuid", submission_id
        )

    async def published(self, message_type: type[Message]) -> list[Message]:
        rows = await self.pool.fetch(
            "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id", message_type.DESCRIPTOR.full_name
        )
        return [message_type.FromString(r["payload"]) for r in rows]

    async def until(self, check, what: str, within: float = 30) -> None:
        await testing.eventually(check, within, what, every=0.05)


@pytest.fixture
async def qa(schema, token_keys, events):
    settings = QASettings(db_schema=schema, grpc_port=0, metrics_port=0, COHORT_TOKEN_PUBLIC_KEY=token_keys[1])
    runtime = ServiceRuntime(definition(settings))
    async with runtime, grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}") as channel:
        yield QA(runtime, channel, token_keys, events)
