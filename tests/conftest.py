"""Fixtures of the cross-service tests: the services running in this process, each on its own
schema (dropped afterwards), and a polling helper for what arrives by event."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import items_pb2
from cohort.intake.v1 import labs_pb2, labs_pb2_grpc, projects_pb2_grpc, tasks_pb2_grpc
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_intake.bootstrap import definition as intake_definition
from cohort_intake.config import IntakeSettings
from cohort_payout.bootstrap import definition as payout_definition
from cohort_payout.config import PayoutSettings
from cohort_qa.bootstrap import definition as qa_definition
from cohort_qa.config import QASettings
from cohort_runtime import ServiceRuntime, testing
from cohort_runtime.pseudonyms import LabView
from cohort_runtime.tokens import issue_token
from cohort_tasking.bootstrap import definition as tasking_definition
from cohort_tasking.config import TaskingSettings
from cohort_workbench.bootstrap import Workbench
from cohort_workbench.config import WorkbenchSettings

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
        return await testing.eventually(check, within)

    return poll


@pytest.fixture
def fast_experts() -> dict[str, Any]:
    """QA settings for test experts, who answer within milliseconds: the pace check let through."""
    return {"min_seconds": 0, "max_typing_chars_per_second": 1e9, "max_reading_chars_per_second": 1e9}


@contextlib.asynccontextmanager
async def running_services(
    database_url: str, public_key: str, *names: str, **overrides: dict[str, Any]
) -> AsyncIterator[dict[str, ServiceRuntime]]:
    """Start the named services (in that order), each on a schema of its own dropped afterwards."""
    schemas = {name: f"{name}_{uuid.uuid4().hex[:12]}" for name in names}
    running: dict[str, ServiceRuntime] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            for name in names:
                settings_type, definition = _SERVICES[name]
                settings = settings_type(
                    db_schema=schemas[name],
                    grpc_port=0,
                    metrics_port=0,
                    COHORT_TOKEN_PUBLIC_KEY=public_key,
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


@pytest.fixture
def services(
    database_url: str, token_keys: tuple[str, str]
) -> Callable[..., contextlib.AbstractAsyncContextManager[dict[str, ServiceRuntime]]]:
    """`async with services("intake", "tasking", qa={...settings}) as running:` starts the named
    services (in that order) with their own schemas; `running["qa"].grpc_port` and so on."""

    def start(
        *names: str, **overrides: dict[str, Any]
    ) -> contextlib.AbstractAsyncContextManager[dict[str, ServiceRuntime]]:
        return running_services(database_url, token_keys[1], *names, **overrides)

    return start


Metadata = tuple[tuple[str, str], ...]


class Onboarding:
    """What an operator does before a lab or an expert can work: labs with API keys, experts with
    tokens. Over the running services' gRPC channels."""

    def __init__(self, private_key: str) -> None:
        self._private_key = private_key
        self.operator: Metadata = self.bearer(issue_token(private_key, kind="operator", subject="op"))
        self._lab_ids: dict[str, str] = {}

    @staticmethod
    def bearer(secret: str) -> Metadata:
        return (("authorization", f"Bearer {secret}"),)

    async def lab(self, intake: grpc.aio.Channel, name: str = "L") -> Metadata:
        """A new lab; the metadata of its API key."""
        admin = labs_pb2_grpc.LabAdminServiceStub(intake)
        created = await admin.CreateLab(
            labs_pb2.CreateLabRequest(request_id=str(uuid.uuid4()), display_name=name), metadata=self.operator
        )
        key = await admin.CreateApiKey(
            labs_pb2.CreateApiKeyRequest(lab_id=created.lab.lab_id, display_name="k"), metadata=self.operator
        )
        self._lab_ids[key.secret] = created.lab.lab_id
        return self.bearer(key.secret)

    def lab_id_of(self, lab: Metadata) -> str:
        """The id of the lab whose API key `lab` carries."""
        return self._lab_ids[dict(lab)["authorization"].removeprefix("Bearer ")]

    def lab_sees(self, lab: Metadata, *expert_ids: str) -> list[str]:
        """The pseudonyms the lab holding `lab` is shown for these experts (docs/PRIVACY.md)."""
        lab_id = self.lab_id_of(lab)
        return list(LabView(os.environ["COHORT_PSEUDONYM_KEY"].encode()).of(lab_id, expert_ids))

    async def expert(
        self, tasking: grpc.aio.Channel, expert_id: str | None = None, *, reviewer: bool = False
    ) -> tuple[str, Metadata]:
        """A registered organic-chemistry PhD speaking English (a reviewer too when asked); their
        id and token metadata."""
        expert_id = expert_id or f"exp_{uuid.uuid4().hex[:12]}"
        await experts_pb2_grpc.ExpertAdminServiceStub(tasking).RegisterExpert(
            experts_pb2.RegisterExpertRequest(
                expert=experts_pb2.ExpertProfile(
                    expert_id=expert_id,
                    degree=types.DEGREE_LEVEL_DOCTORATE,
                    fields=["chemistry.organic"],
                    languages=["en"],
                    reviewer=reviewer,
                )
            ),
            metadata=self.operator,
        )
        return expert_id, self.token("expert", expert_id, ("reviewer",) if reviewer else ())

    def token(self, kind: str, subject: str, roles: tuple[str, ...] = ()) -> Metadata:
        """Metadata with a platform token of `kind` for `subject`."""
        return self.bearer(issue_token(self._private_key, kind=kind, subject=subject, roles=roles))

    async def project(self, intake: grpc.aio.Channel, lab: Metadata, **fields: Any) -> str:
        """The lab creates a project (still a draft): a small chemistry spec, `fields` replaced."""
        spec = ppb.ProjectSpec(
            title="test project",
            data_kind=types.DATA_KIND_PREFERENCE,
            domain="chemistry.organic",
            qualifications=types.Qualifications(fields=["chemistry"]),
            instructions_markdown="Do the task.",
            target_accepted_items=1,
            overlap=1,
            rubric=types.Rubric(criteria=[types.RubricCriterion(name="q", weight=1, scale_min=1, scale_max=5)]),
            pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=100)),
            currency_code="EUR",
            budget_cap_minor=100_000,
            deadline=in_days(3),
        )
        for name, value in fields.items():
            if isinstance(value, Message):
                getattr(spec, name).CopyFrom(value)
            else:
                setattr(spec, name, value)
        created = await projects_pb2_grpc.ProjectServiceStub(intake).CreateProject(
            ppb.CreateProjectRequest(request_id=str(uuid.uuid4()), spec=spec), metadata=lab
        )
        return created.project.project_id

    async def delivered_project(
        self, intake: grpc.aio.Channel, intake_pool: asyncpg.Pool, lab: Metadata, events: Any, items: int
    ) -> str:
        """An active preference project of `items` tasks, each already delivered to the lab: the items
        arrive as QA publishes them (ItemFinalized), and intake has stored them all."""
        pid = await self.project(intake, lab, target_accepted_items=items)
        candidates = [ttypes.Candidate(candidate_id=c, content=c.upper()) for c in "ab"]
        tasks = [
            tpb.NewTask(task_id=f"t{i}", input=ttypes.TaskInput(prompt=f"Which? {i}", candidates=candidates))
            for i in range(items)
        ]
        await tasks_pb2_grpc.TaskServiceStub(intake).AddTasks(
            tpb.AddTasksRequest(project_id=pid, tasks=tasks), metadata=lab
        )
        await projects_pb2_grpc.ProjectServiceStub(intake).ActivateProject(
            ppb.ActivateProjectRequest(project_id=pid), metadata=lab
        )
        for i in range(items):
            await events.send(
                "cohort.qa.items.v1", pid,
                items_pb2.ItemFinalized(
                    project_id=pid, task_id=f"t{i}", item_id=str(uuid.uuid4()), expert_ids=["exp_delivered1"],
                    preference=items_pb2.PreferenceResult(ranking=["a", "b"]),
                ),
            )  # fmt: skip

        async def stored() -> bool | None:
            count = await intake_pool.fetchval("SELECT count(*) FROM items WHERE project_id = $1::text::uuid", pid)
            return count == items or None

        await testing.eventually(stored, 30, f"{items} items delivered")
        return pid


@pytest.fixture
def onboard(token_keys: tuple[str, str]) -> Onboarding:
    return Onboarding(token_keys[0])


def in_days(days: float) -> Timestamp:
    when = Timestamp()
    when.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))
    return when


@contextlib.asynccontextmanager
async def running_workbench(
    database_url: str, token_keys: tuple[str, str], running: dict[str, ServiceRuntime], **settings: Any
) -> AsyncIterator[Workbench]:
    """The workbench in this process, in front of the running tasking, QA and payout, on a schema of
    its own (dropped afterwards); `workbench.http.port` once it serves. Cookies without Secure:
    the tests speak plain HTTP on loopback."""
    schema = f"workbench_{uuid.uuid4().hex[:12]}"
    workbench = Workbench(
        WorkbenchSettings(
            db_schema=schema,
            grpc_port=0,
            metrics_port=0,
            http_port=0,
            secure_cookies=False,
            public_url="http://workbench.test",
            tasking_address=f"127.0.0.1:{running['tasking'].grpc_port}",
            qa_address=f"127.0.0.1:{running['qa'].grpc_port}",
            payout_address=f"127.0.0.1:{running['payout'].grpc_port}",
            token_private_key=token_keys[0],
            COHORT_TOKEN_PUBLIC_KEY=token_keys[1],
            **settings,
        )
    )
    try:
        async with ServiceRuntime(workbench.definition()) as runtime:
            assert workbench.http is not None
            await asyncio.wait_for(workbench.http.started.wait(), 30)
            workbench.runtime = runtime  # type: ignore[attr-defined]
            yield workbench
    finally:
        await workbench.backends.close()
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()


async def open_project(
    intake: grpc.aio.Channel, onboard: Onboarding, lab: Metadata, tasks: list[Any], **spec: Any
) -> str:
    """A project with `tasks` (intake NewTask messages), activated; its id."""
    from cohort.intake.v1 import tasks_pb2, tasks_pb2_grpc

    pid = await onboard.project(intake, lab, **spec)
    await tasks_pb2_grpc.TaskServiceStub(intake).AddTasks(
        tasks_pb2.AddTasksRequest(project_id=pid, tasks=tasks), metadata=lab
    )
    await projects_pb2_grpc.ProjectServiceStub(intake).ActivateProject(
        ppb.ActivateProjectRequest(project_id=pid), metadata=lab
    )
    return pid


class WorkbenchStack:
    """The four services, the workbench in front of them, and channels to each (what the workbench
    tests drive)."""

    def __init__(self, running: dict[str, ServiceRuntime], workbench: Workbench, channels: dict[str, Any]) -> None:
        self.running = running
        self.workbench = workbench
        self.intake = channels["intake"]
        self.tasking = channels["tasking"]
        self.admin = channels["workbench"]
        assert workbench.http is not None
        self.base_url = f"http://127.0.0.1:{workbench.http.port}"


@pytest.fixture
def workbench_stack(
    services: Callable[..., contextlib.AbstractAsyncContextManager[dict[str, ServiceRuntime]]],
    database_url: str,
    token_keys: tuple[str, str],
    fast_experts: dict[str, Any],
) -> Callable[..., contextlib.AbstractAsyncContextManager[WorkbenchStack]]:
    """`async with workbench_stack(**workbench_settings) as stack:` runs everything an expert's
    browser reaches, each service on its own schema."""

    @contextlib.asynccontextmanager
    async def start(**settings: Any) -> AsyncIterator[WorkbenchStack]:
        async with (
            services("intake", "tasking", "qa", "payout", qa=fast_experts) as running,
            running_workbench(database_url, token_keys, running, **settings) as workbench,
        ):
            channels = {
                "intake": grpc.aio.insecure_channel(f"127.0.0.1:{running['intake'].grpc_port}"),
                "tasking": grpc.aio.insecure_channel(f"127.0.0.1:{running['tasking'].grpc_port}"),
                "workbench": grpc.aio.insecure_channel(f"127.0.0.1:{workbench.runtime.grpc_port}"),  # type: ignore[attr-defined]
            }
            try:
                yield WorkbenchStack(running, workbench, channels)
            finally:
                for channel in channels.values():
                    await channel.close()

    return start


def csrf_of(page: str) -> str:
    """The CSRF token a workbench page carries in its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries a CSRF token"
    return found.group(1)
