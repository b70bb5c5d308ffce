"""TaskService: adding a project's tasks and reading them back, scoped to the calling lab."""

from __future__ import annotations

import asyncpg

from cohort.intake.v1 import tasks_pb2 as pb
from cohort.intake.v1 import tasks_pb2_grpc as pb_grpc
from cohort_intake.api.auth import require_lab
from cohort_intake.app import tasks as app
from cohort_intake.domain.tasks import MAX_BATCH, NewTask, Task
from cohort_intake.mapping import gold_from_proto, gold_to_proto, task_input_from_proto, task_input_to_proto
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument, paging
from cohort_runtime.fields import parse_uuid, timestamp


def task_from_proto(t: pb.NewTask) -> NewTask:
    return NewTask(
        task_id=t.task_id,
        input=task_input_from_proto(t.input),
        gold=gold_from_proto(t.gold) if t.HasField("gold") else None,
        screening=t.screening,
    )


def task_to_proto(t: Task) -> pb.Task:
    out = pb.Task(
        project_id=str(t.project_id),
        task_id=t.task_id,
        input=task_input_to_proto(t.input),
        is_gold=t.gold is not None,
        create_time=timestamp(t.create_time),
        screening=t.screening,
    )
    if t.gold is not None:
        out.gold.CopyFrom(gold_to_proto(t.gold))
    return out


class TaskServicer(pb_grpc.TaskServiceServicer):
    def __init__(self, pool: asyncpg.Pool, metrics: IntakeMetrics) -> None:
        self._pool = pool
        self._metrics = metrics

    async def AddTasks(self, request: pb.AddTasksRequest, context: GrpcContext) -> pb.AddTasksResponse:
        lab_id = require_lab()
        if len(request.tasks) > MAX_BATCH:  # before mapping a huge batch
            raise InvalidArgument([FieldViolation("tasks", f"must hold 1..{MAX_BATCH} tasks")])
        added, unchanged = await app.add_tasks(
            self._pool,
            lab_id,
            parse_uuid(request.project_id, "project_id"),
            [task_from_proto(t) for t in request.tasks],
        )
        self._metrics.tasks_added.inc(added)
        return pb.AddTasksResponse(added_count=added, unchanged_count=unchanged)

    async def GetTask(self, request: pb.GetTaskRequest, context: GrpcContext) -> pb.GetTaskResponse:
        lab_id = require_lab()
        task = await app.get_task(self._pool, lab_id, parse_uuid(request.project_id, "project_id"), request.task_id)
        return pb.GetTaskResponse(task=task_to_proto(task))

    async def ListTasks(self, request: pb.ListTasksRequest, context: GrpcContext) -> pb.ListTasksResponse:
        lab_id = require_lab()
        size = paging.page_size(request.page_size)
        project_id = parse_uuid(request.project_id, "project_id")
        query = {"lab": str(lab_id), "project": str(project_id)}
        position = paging.decode_keyset(request.page_token, query, int)
        after = position[0] if position else None
        tasks, more = await app.list_tasks(self._pool, lab_id, project_id, after, size)
        token = paging.encode([tasks[-1].seq], query) if more and tasks else ""
        return pb.ListTasksResponse(tasks=[task_to_proto(t) for t in tasks], next_page_token=token)
