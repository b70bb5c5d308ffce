"""The lab API (intake) for asyncio: `AsyncLabClient`, the twin of `cohort_client.lab.LabClient`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any

import grpc

from cohort.intake.v1 import delivery_pb2, delivery_pb2_grpc, projects_pb2, projects_pb2_grpc, tasks_pb2, tasks_pb2_grpc
from cohort_client import lab
from cohort_client._calls import CallPolicy, acall, apages
from cohort_client.audits import AsyncAudits
from cohort_client.channels import aio_channel
from cohort_client.errors import CohortError, from_rpc_error
from cohort_client.webhooks import AsyncWebhooks


class AsyncLabClient:
    def __init__(self, target: str, api_key: str, *, secure: bool = False, policy: CallPolicy | None = None) -> None:
        self._channel = aio_channel(target, secure=secure, options=lab._channel_args())
        self._md = (("authorization", f"Bearer {api_key}"),)
        self._policy = policy or CallPolicy()
        self._projects = projects_pb2_grpc.ProjectServiceStub(self._channel)
        self._tasks = tasks_pb2_grpc.TaskServiceStub(self._channel)
        self._delivery = delivery_pb2_grpc.DeliveryServiceStub(self._channel)
        self.webhooks = AsyncWebhooks(self._channel, self._md, self._policy)
        self.audits = AsyncAudits(self._channel, self._md, self._policy)

    async def __aenter__(self) -> AsyncLabClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def create_project(
        self, spec: projects_pb2.ProjectSpec, request_id: str | None = None
    ) -> projects_pb2.Project:
        request = projects_pb2.CreateProjectRequest(request_id=request_id or str(uuid.uuid4()), spec=spec)
        return (await acall(self._policy, self._projects.CreateProject, request, self._md, safe=True)).project

    async def get_project(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.GetProjectRequest(project_id=project_id)
        return (await acall(self._policy, self._projects.GetProject, request, self._md, safe=True)).project

    async def activate(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.ActivateProjectRequest(project_id=project_id)
        return (await acall(self._policy, self._projects.ActivateProject, request, self._md, safe=False)).project

    async def pause(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.PauseProjectRequest(project_id=project_id)
        return (await acall(self._policy, self._projects.PauseProject, request, self._md, safe=False)).project

    async def resume(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.ResumeProjectRequest(project_id=project_id)
        return (await acall(self._policy, self._projects.ResumeProject, request, self._md, safe=False)).project

    async def cancel(self, project_id: str, reason: str = "") -> projects_pb2.Project:
        request = projects_pb2.CancelProjectRequest(project_id=project_id, reason=reason)
        return (await acall(self._policy, self._projects.CancelProject, request, self._md, safe=False)).project

    async def list_projects(self, state: int = 0) -> AsyncIterator[projects_pb2.Project]:
        def request(token: str) -> projects_pb2.ListProjectsRequest:
            return projects_pb2.ListProjectsRequest(page_size=100, page_token=token, state=state)  # type: ignore[arg-type]

        async for page in apages(self._policy, self._projects.ListProjects, request, self._md):
            for project in page.projects:
                yield project

    async def add_tasks(
        self,
        project_id: str,
        tasks: Iterable[tasks_pb2.NewTask | dict[str, Any]],
        batch_size: int = lab.TASK_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> tuple[int, int]:
        """(added, unchanged), sent in batches; `on_batch(n)` after each batch of n tasks."""
        added = unchanged = 0
        for batch in lab._batches(lab._new_tasks(tasks), batch_size):
            reply = await acall(
                self._policy, self._tasks.AddTasks, tasks_pb2.AddTasksRequest(project_id=project_id, tasks=batch),
                self._md, safe=True,
            )  # fmt: skip
            added, unchanged = added + reply.added_count, unchanged + reply.unchanged_count
            if on_batch is not None:
                on_batch(len(batch))
        return added, unchanged

    async def watch_progress(self, project_id: str) -> AsyncIterator[delivery_pb2.ProjectProgress]:
        stream = self._delivery.WatchProgress(
            delivery_pb2.WatchProgressRequest(project_id=project_id), metadata=self._md
        )
        try:
            async for reply in stream:
                yield reply.progress
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise from_rpc_error(exc) from None
        finally:
            stream.cancel()

    async def export_items(self, project_id: str) -> AsyncIterator[delivery_pb2.ExportedItem]:
        cursor, attempts = "", 0
        while True:
            request = delivery_pb2.ExportItemsRequest(project_id=project_id, cursor=cursor)
            try:
                async for reply in self._delivery.ExportItems(request, metadata=self._md, timeout=300):
                    for item in reply.items:
                        yield item
                    cursor, attempts = reply.cursor or cursor, 0
                return
            except grpc.aio.AioRpcError as exc:
                error: CohortError = from_rpc_error(exc)
                attempts += 1
                if not error.retryable or attempts >= self._policy.attempts:
                    raise error from None
