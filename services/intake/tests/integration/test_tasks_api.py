"""TaskService over real gRPC and PostgreSQL; the events it writes to the outbox."""

from __future__ import annotations

import uuid

import grpc
import pytest

from cohort.events.v1 import tasks_pb2 as events
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as pb
from cohort.intake.v1 import tasks_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes

from ..spec_factory import valid_spec
from .test_projects_api import create, field_violations

GOLD_SECRET = "the-reference-ranking-is-b-then-a"


def preference_task(task_id: str, gold: bool = False, prompt: str = "Which is better?") -> pb.NewTask:
    task = pb.NewTask(
        task_id=task_id,
        input=ttypes.TaskInput(
            prompt=prompt,
            candidates=[
                ttypes.Candidate(candidate_id="a", content="A"),
                ttypes.Candidate(candidate_id="b", content="B"),
            ],
            metadata={"source": "unit"},
        ),
    )
    if gold:
        task.gold.CopyFrom(ttypes.GoldReference(ranking=["b", "a"], text=GOLD_SECRET))
    return task


@pytest.fixture
async def project(intake):
    _lab_id, lab = await intake.new_lab()
    spec = valid_spec(data_kind=types.DATA_KIND_PREFERENCE)
    p = await create(intake, lab, spec)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{intake.runtime.grpc_port}")
    async with channel:
        yield p.project_id, lab, tasks_pb2_grpc.TaskServiceStub(channel)


async def test_adding_is_idempotent_per_task_id_and_all_or_nothing(intake, project):
    pid, lab, tasks = project
    batch = [preference_task(f"t{i}", gold=(i % 4 == 0)) for i in range(10)]
    first = await tasks.AddTasks(pb.AddTasksRequest(project_id=pid, tasks=batch), metadata=lab)
    assert (first.added_count, first.unchanged_count) == (10, 0)
    again = await tasks.AddTasks(
        pb.AddTasksRequest(project_id=pid, tasks=[*batch[:5], preference_task("t10")]), metadata=lab
    )
    assert (again.added_count, again.unchanged_count) == (1, 5)

    changed = preference_task("t3", prompt="Something else")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasks.AddTasks(pb.AddTasksRequest(project_id=pid, tasks=[preference_task("t11"), changed]), metadata=lab)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "t3" in err.value.details()
    assert await intake.pool.fetchval("SELECT count(*) FROM tasks") == 11, "t11 was not added either"


async def test_gold_references_travel_only_on_the_qa_topic(intake, project):
    pid, lab, tasks = project
    await tasks.AddTasks(
        pb.AddTasksRequest(project_id=pid, tasks=[preference_task("g1", gold=True), preference_task("p1")]),
        metadata=lab,
    )
    rows = await intake.pool.fetch(
        "SELECT topic, event_type, payload FROM outbox"
        " WHERE topic IN ('cohort.intake.tasks.v1', 'cohort.intake.gold.v1') ORDER BY id"
    )
    by_topic = {r["topic"]: (r["event_type"], bytes(r["payload"])) for r in rows}
    assert set(by_topic) == {"cohort.intake.tasks.v1", "cohort.intake.gold.v1"}
    kind, payload = by_topic["cohort.intake.tasks.v1"]
    assert kind == "cohort.events.v1.TasksAdded"
    added = events.TasksAdded.FromString(payload)
    assert [(t.task_id, t.is_gold) for t in added.tasks] == [("g1", True), ("p1", False)]
    assert GOLD_SECRET.encode() not in payload and b"reference" not in payload
    gold = events.GoldReferencesAdded.FromString(by_topic["cohort.intake.gold.v1"][1])
    assert [(r.task_id, list(r.reference.ranking)) for r in gold.references] == [("g1", ["b", "a"])]


async def test_bad_tasks_are_rejected_with_field_paths(intake, project):
    pid, lab, tasks = project
    one_candidate = preference_task("x1")
    del one_candidate.input.candidates[1]
    bad_gold = preference_task("x2")
    bad_gold.gold.CopyFrom(ttypes.GoldReference(ranking=["a"]))
    no_input = pb.NewTask(task_id="x3")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasks.AddTasks(
            pb.AddTasksRequest(project_id=pid, tasks=[one_candidate, bad_gold, no_input, preference_task("bad id!")]),
            metadata=lab,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) >= {
        "tasks[0].input.candidates",
        "tasks[1].gold.ranking",
        "tasks[2].input",
        "tasks[3].task_id",
    }
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasks.AddTasks(
            pb.AddTasksRequest(project_id=pid, tasks=[preference_task(f"t{i}") for i in range(1001)]),
            metadata=lab,
        )
    assert field_violations(err.value) == {"tasks"}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasks.AddTasks(
            pb.AddTasksRequest(project_id=pid, tasks=[preference_task("d"), preference_task("d")]),
            metadata=lab,
        )
    assert field_violations(err.value) == {"tasks[1].task_id"}
    assert await intake.pool.fetchval("SELECT count(*) FROM tasks") == 0


async def test_list_get_and_isolation(intake, project):
    pid, lab, tasks = project
    await tasks.AddTasks(
        pb.AddTasksRequest(project_id=pid, tasks=[preference_task(f"t{i:02}") for i in range(25)]),
        metadata=lab,
    )
    seen, token = [], ""
    while True:
        page = await tasks.ListTasks(pb.ListTasksRequest(project_id=pid, page_size=10, page_token=token), metadata=lab)
        seen += [t.task_id for t in page.tasks]
        if len(seen) == 10:  # tasks added meanwhile appear at the end, never twice
            await tasks.AddTasks(pb.AddTasksRequest(project_id=pid, tasks=[preference_task("late")]), metadata=lab)
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"t{i:02}" for i in range(25)] + ["late"]
    got = await tasks.GetTask(pb.GetTaskRequest(project_id=pid, task_id="t07"), metadata=lab)
    assert got.task.input.metadata["source"] == "unit" and not got.task.is_gold

    _other, lab_b = await intake.new_lab("B")
    for call in (
        lambda: tasks.AddTasks(pb.AddTasksRequest(project_id=pid, tasks=[preference_task("z")]), metadata=lab_b),
        lambda: tasks.GetTask(pb.GetTaskRequest(project_id=pid, task_id="t07"), metadata=lab_b),
        lambda: tasks.ListTasks(pb.ListTasksRequest(project_id=pid), metadata=lab_b),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call()
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert err.value.details() == f"project '{pid}' not found"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasks.GetTask(pb.GetTaskRequest(project_id=pid, task_id="nope"), metadata=lab)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_no_tasks_for_a_cancelled_project(intake, project):
    pid, lab, tasks = project
    await intake.projects.CancelProject(ppb.CancelProjectRequest(project_id=pid), metadata=lab)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tasks.AddTasks(pb.AddTasksRequest(project_id=pid, tasks=[preference_task("t")]), metadata=lab)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert str(uuid.UUID(pid)) in err.value.details()
