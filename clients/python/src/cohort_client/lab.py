"""The lab API (intake), sync (`LabClient`) and asyncio (`AsyncLabClient`).

    with LabClient("intake.example:443", api_key="ck_...", secure=True) as lab:
        project = lab.create_project(spec_from_file("spec.yaml"))
        lab.add_tasks(project.project_id, tasks_from_jsonl("tasks.jsonl"))
        lab.activate(project.project_id)
        for progress in lab.watch_progress(project.project_id): ...
        for item in lab.export_items(project.project_id): ...

Safe to retry (and retried on UNAVAILABLE/ABORTED): reads, CreateProject (its request id makes a
repeat return the same project), AddTasks (task ids make a repeat add nothing). State changes
(activate, pause, resume, cancel) are not retried: a lost reply is surfaced, not guessed at.
ExportItems resumes from its last cursor when the stream breaks.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask

from cohort.intake.v1 import (
    delivery_pb2,
    delivery_pb2_grpc,
    projects_pb2,
    projects_pb2_grpc,
    tasks_pb2,
    tasks_pb2_grpc,
    tokens_pb2,
    tokens_pb2_grpc,
)
from cohort.payout.v1 import costs_pb2, costs_pb2_grpc
from cohort.qa.v1 import quality_pb2, quality_pb2_grpc
from cohort_client._calls import CallPolicy, call, pages
from cohort_client.audits import Audits
from cohort_client.channels import sync_channel
from cohort_client.errors import from_rpc_error
from cohort_client.webhooks import Webhooks

TASK_BATCH = 1000


def spec_from_dict(data: dict[str, Any]) -> projects_pb2.ProjectSpec:
    """A ProjectSpec from its JSON/YAML form (proto field names or lowerCamelCase); ValueError
    names the field that does not parse."""
    try:
        return json_format.ParseDict(data, projects_pb2.ProjectSpec())
    except json_format.ParseError as exc:
        raise ValueError(str(exc)) from None


def spec_from_file(path: str | Path) -> projects_pb2.ProjectSpec:
    text = Path(path).read_text()
    data = yaml.safe_load(text) if str(path).endswith((".yaml", ".yml")) else json.loads(text)
    return spec_from_dict(data)


def tasks_from_jsonl(path: str | Path) -> Iterator[tasks_pb2.NewTask]:
    """NewTask per line: {"task_id", "input": {"prompt" | "conversation", "candidates"}, "gold"?}."""
    with Path(path).open() as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json_format.ParseDict(json.loads(line), tasks_pb2.NewTask())
                except (ValueError, json_format.ParseError) as exc:
                    raise ValueError(f"{path}:{number}: {exc}") from exc


def _new_tasks(tasks: Iterable[tasks_pb2.NewTask | dict[str, Any]]) -> Iterator[tasks_pb2.NewTask]:
    for t in tasks:
        yield t if isinstance(t, tasks_pb2.NewTask) else json_format.ParseDict(t, tasks_pb2.NewTask())


def _batches(tasks: Iterable[tasks_pb2.NewTask], size: int) -> Iterator[list[tasks_pb2.NewTask]]:
    it = iter(tasks)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _channel_args() -> list[tuple[str, Any]]:
    # No client keepalive pings: the servers' default policy answers frequent pings with GOAWAY.
    return [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


class LabClient:
    """Intake's lab API with the lab's API key; with `qa` and `payout` addresses also the project's
    quality and cost, for which the key is exchanged for a lab token (renewed before it expires)."""

    def __init__(
        self,
        target: str,
        api_key: str,
        *,
        secure: bool = False,
        policy: CallPolicy | None = None,
        qa: str | None = None,
        payout: str | None = None,
    ) -> None:
        self._channel = sync_channel(target, secure=secure, options=_channel_args())
        self._md = (("authorization", f"Bearer {api_key}"),)
        self._policy = policy or CallPolicy()
        self._projects = projects_pb2_grpc.ProjectServiceStub(self._channel)
        self._tasks = tasks_pb2_grpc.TaskServiceStub(self._channel)
        self._delivery = delivery_pb2_grpc.DeliveryServiceStub(self._channel)
        self._tokens = tokens_pb2_grpc.TokenServiceStub(self._channel)
        self._others = {name: sync_channel(t, secure=secure) for name, t in (("qa", qa), ("payout", payout)) if t}
        self.webhooks = Webhooks(self._channel, self._md, self._policy)
        self.audits = Audits(self._channel, self._md, self._policy)
        self._lab_token: tuple[str, float] | None = None  # (token, renew after: epoch seconds)

    def __enter__(self) -> LabClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()
        for channel in self._others.values():
            channel.close()

    def _token_metadata(self) -> tuple[tuple[str, str], ...]:
        """A lab token for QA and payout: exchanged for the API key, again a minute before expiry."""
        if self._lab_token is None or time.time() >= self._lab_token[1]:
            reply = call(
                self._policy, self._tokens.ExchangeApiKey, tokens_pb2.ExchangeApiKeyRequest(), self._md, safe=True
            )
            self._lab_token = (reply.token, reply.expire_time.ToDatetime().timestamp() - 60)
        return (("authorization", f"Bearer {self._lab_token[0]}"),)

    def _channel_to(self, service: str) -> grpc.Channel:
        if service not in self._others:
            raise ValueError(f"this LabClient has no {service} address: LabClient(..., {service}='host:port')")
        return self._others[service]

    def project_quality(self, project_id: str) -> quality_pb2.ProjectQuality:
        """QA's figures for one of the lab's projects (agreement, gold accuracy, acceptance)."""
        stub = quality_pb2_grpc.QualityServiceStub(self._channel_to("qa"))
        request = quality_pb2.GetProjectQualityRequest(project_id=project_id)
        return call(self._policy, stub.GetProjectQuality, request, self._token_metadata(), safe=True).quality

    def project_cost(self, project_id: str) -> costs_pb2.ProjectCost:
        """Payout's figures for one of the lab's projects: committed, spent, the budget cap."""
        stub = costs_pb2_grpc.ProjectCostServiceStub(self._channel_to("payout"))
        request = costs_pb2.GetProjectCostRequest(project_id=project_id)
        return call(self._policy, stub.GetProjectCost, request, self._token_metadata(), safe=True).cost

    def create_project(self, spec: projects_pb2.ProjectSpec, request_id: str | None = None) -> projects_pb2.Project:
        request = projects_pb2.CreateProjectRequest(request_id=request_id or str(uuid.uuid4()), spec=spec)
        return call(self._policy, self._projects.CreateProject, request, self._md, safe=True).project

    def get_project(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.GetProjectRequest(project_id=project_id)
        return call(self._policy, self._projects.GetProject, request, self._md, safe=True).project

    def activate(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.ActivateProjectRequest(project_id=project_id)
        return call(self._policy, self._projects.ActivateProject, request, self._md, safe=False).project

    def pause(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.PauseProjectRequest(project_id=project_id)
        return call(self._policy, self._projects.PauseProject, request, self._md, safe=False).project

    def resume(self, project_id: str) -> projects_pb2.Project:
        request = projects_pb2.ResumeProjectRequest(project_id=project_id)
        return call(self._policy, self._projects.ResumeProject, request, self._md, safe=False).project

    def cancel(self, project_id: str, reason: str = "") -> projects_pb2.Project:
        request = projects_pb2.CancelProjectRequest(project_id=project_id, reason=reason)
        return call(self._policy, self._projects.CancelProject, request, self._md, safe=False).project

    def list_projects(self, state: int = 0) -> Iterator[projects_pb2.Project]:
        """The lab's projects, newest first (every page); `state` a ProjectState to narrow to."""

        def request(token: str) -> projects_pb2.ListProjectsRequest:
            return projects_pb2.ListProjectsRequest(page_size=100, page_token=token, state=state)  # type: ignore[arg-type]

        for page in pages(self._policy, self._projects.ListProjects, request, self._md):
            yield from page.projects

    def update_project(
        self, project_id: str, spec: projects_pb2.ProjectSpec, fields: list[str]
    ) -> projects_pb2.Project:
        """Change the spec's `fields` (paths of ProjectSpec) to their values in `spec`."""
        request = projects_pb2.UpdateProjectRequest(
            project_id=project_id, spec=spec, update_mask=FieldMask(paths=fields)
        )
        return call(self._policy, self._projects.UpdateProject, request, self._md, safe=True).project

    def get_task(self, project_id: str, task_id: str) -> tasks_pb2.Task:
        request = tasks_pb2.GetTaskRequest(project_id=project_id, task_id=task_id)
        return call(self._policy, self._tasks.GetTask, request, self._md, safe=True).task

    def list_tasks(self, project_id: str) -> Iterator[tasks_pb2.Task]:
        def request(token: str) -> tasks_pb2.ListTasksRequest:
            return tasks_pb2.ListTasksRequest(project_id=project_id, page_size=500, page_token=token)

        for page in pages(self._policy, self._tasks.ListTasks, request, self._md):
            yield from page.tasks

    def add_tasks(
        self,
        project_id: str,
        tasks: Iterable[tasks_pb2.NewTask | dict[str, Any]],
        batch_size: int = TASK_BATCH,
        on_batch: Callable[[int], None] | None = None,
    ) -> tuple[int, int]:
        """(added, unchanged), sent in batches; a repeated task id adds nothing. `on_batch(n)` is
        called after each batch of n tasks is stored (a progress bar's hook)."""
        added = unchanged = 0
        for batch in _batches(_new_tasks(tasks), batch_size):
            reply = call(
                self._policy, self._tasks.AddTasks, tasks_pb2.AddTasksRequest(project_id=project_id, tasks=batch),
                self._md, safe=True,
            )  # fmt: skip
            added, unchanged = added + reply.added_count, unchanged + reply.unchanged_count
            if on_batch is not None:
                on_batch(len(batch))
        return added, unchanged

    def watch_progress(self, project_id: str) -> Iterator[delivery_pb2.ProjectProgress]:
        """Progress as it changes, until the project ends or the caller stops iterating."""
        stream = self._delivery.WatchProgress(
            delivery_pb2.WatchProgressRequest(project_id=project_id), metadata=self._md
        )
        try:
            for reply in stream:
                yield reply.progress
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise from_rpc_error(exc) from None
        finally:
            stream.cancel()

    def export_items(self, project_id: str) -> Iterator[delivery_pb2.ExportedItem]:
        """Every delivered item, oldest first; resumes from the last cursor if the stream breaks."""
        cursor, attempts = "", 0
        while True:
            request = delivery_pb2.ExportItemsRequest(project_id=project_id, cursor=cursor)
            try:
                for reply in self._delivery.ExportItems(request, metadata=self._md, timeout=300):
                    yield from reply.items
                    cursor, attempts = reply.cursor or cursor, 0
                return
            except grpc.RpcError as exc:
                error = from_rpc_error(exc)
                attempts += 1
                if not error.retryable or attempts >= self._policy.attempts:
                    raise error from None


# The asyncio client lives beside; importing it from here keeps `cohort_client.lab.AsyncLabClient`.
from cohort_client.lab_async import AsyncLabClient  # noqa: E402

__all__ = ["AsyncLabClient", "LabClient", "spec_from_dict", "spec_from_file", "tasks_from_jsonl"]
