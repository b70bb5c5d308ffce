"""ProjectService: a lab's data projects. Every call is scoped to the calling lab."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort.intake.v1 import projects_pb2 as pb
from cohort.intake.v1 import projects_pb2_grpc as pb_grpc
from cohort_intake.api.auth import require_lab
from cohort_intake.api.spec_mapping import masked_update, project_to_proto, state_filter
from cohort_intake.app import projects as app
from cohort_intake.domain.projects import Project, Transition
from cohort_intake.mapping import spec_from_proto
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime import GrpcContext, paging
from cohort_runtime.fields import parse_uuid


class ProjectServicer(pb_grpc.ProjectServiceServicer):
    def __init__(self, pool: asyncpg.Pool, metrics: IntakeMetrics, projects_per_hour: int) -> None:
        self._pool = pool
        self._metrics = metrics
        self._projects_per_hour = projects_per_hour

    async def CreateProject(self, request: pb.CreateProjectRequest, context: GrpcContext) -> pb.CreateProjectResponse:
        lab_id = require_lab()
        project = await app.create_project(
            self._pool,
            lab_id,
            parse_uuid(request.request_id, "request_id"),
            spec_from_proto(request.spec),
            self._projects_per_hour,
        )
        return pb.CreateProjectResponse(project=project_to_proto(project))

    async def GetProject(self, request: pb.GetProjectRequest, context: GrpcContext) -> pb.GetProjectResponse:
        lab_id = require_lab()
        project = await app.get_project(self._pool, lab_id, parse_uuid(request.project_id, "project_id"))
        return pb.GetProjectResponse(project=project_to_proto(project))

    async def ListProjects(self, request: pb.ListProjectsRequest, context: GrpcContext) -> pb.ListProjectsResponse:
        lab_id = require_lab()
        size = paging.page_size(request.page_size)
        state = state_filter(request.state)
        query = {"lab": str(lab_id), "state": request.state}
        after = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, uuid.UUID)
        projects, more = await app.list_projects(self._pool, lab_id, state, after, size)
        token = ""
        if more and projects:
            last = projects[-1]
            token = paging.encode([last.create_time.isoformat(), str(last.project_id)], query)
        return pb.ListProjectsResponse(projects=[project_to_proto(p) for p in projects], next_page_token=token)

    async def UpdateProject(self, request: pb.UpdateProjectRequest, context: GrpcContext) -> pb.UpdateProjectResponse:
        lab_id = require_lab()
        change = masked_update(request.update_mask, request.spec)
        project = await app.update_project(self._pool, lab_id, parse_uuid(request.project_id, "project_id"), change)
        return pb.UpdateProjectResponse(project=project_to_proto(project))

    async def ActivateProject(
        self, request: pb.ActivateProjectRequest, context: GrpcContext
    ) -> pb.ActivateProjectResponse:
        return pb.ActivateProjectResponse(project=await self._move(request.project_id, Transition.ACTIVATE))

    async def PauseProject(self, request: pb.PauseProjectRequest, context: GrpcContext) -> pb.PauseProjectResponse:
        return pb.PauseProjectResponse(project=await self._move(request.project_id, Transition.PAUSE, request.reason))

    async def ResumeProject(self, request: pb.ResumeProjectRequest, context: GrpcContext) -> pb.ResumeProjectResponse:
        return pb.ResumeProjectResponse(project=await self._move(request.project_id, Transition.RESUME))

    async def CancelProject(self, request: pb.CancelProjectRequest, context: GrpcContext) -> pb.CancelProjectResponse:
        return pb.CancelProjectResponse(project=await self._move(request.project_id, Transition.CANCEL, request.reason))

    async def _move(self, project_id: str, what: Transition, reason: str = "") -> pb.Project:
        lab_id = require_lab()
        project: Project = await app.transition(self._pool, lab_id, parse_uuid(project_id, "project_id"), what, reason)
        self._metrics.transitions.labels(what.value).inc()
        return project_to_proto(project)
