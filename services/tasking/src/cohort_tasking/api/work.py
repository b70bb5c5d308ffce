"""WorkService: the expert's own work loop. Every call acts for the token's expert only."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import asyncpg

from cohort.tasking.v1 import work_pb2 as pb
from cohort.tasking.v1 import work_pb2_grpc as pb_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub_pb
from cohort.types.v1.tasks_pb2 import TaskInput
from cohort_runtime import GrpcContext, paging
from cohort_runtime.auth import require_expert
from cohort_runtime.clock import SYSTEM_CLOCK, Clock
from cohort_runtime.domain_errors import DomainError
from cohort_runtime.fields import parse_uuid, timestamp
from cohort_tasking.app import work as app
from cohort_tasking.app.eligibility import EligibilityCache
from cohort_tasking.app.work import ExpertView
from cohort_tasking.domain.assignments import Assignment, AssignmentState
from cohort_tasking.domain.display_order import display_order
from cohort_tasking.domain.routing import RoutingProject
from cohort_tasking.domain.submissions import Payload, Step

log = logging.getLogger(__name__)

STATES = {
    AssignmentState.ACTIVE: pb.ASSIGNMENT_STATE_ACTIVE,
    AssignmentState.SUBMITTED: pb.ASSIGNMENT_STATE_SUBMITTED,
    AssignmentState.RELEASED: pb.ASSIGNMENT_STATE_RELEASED,
    AssignmentState.EXPIRED: pb.ASSIGNMENT_STATE_EXPIRED,
}


def assignment_to_proto(a: Assignment) -> pb.Assignment:
    return pb.Assignment(
        assignment_id=str(a.assignment_id),
        project_id=str(a.project_id),
        task_id=a.task_id,
        state=STATES[a.state],
        expire_time=timestamp(a.expire_time),
        acquire_time=timestamp(a.acquire_time),
    )


def _eligible_to_proto(p: RoutingProject, view: ExpertView) -> pb.EligibleProject:
    activated = view.activated
    out = pb.EligibleProject(
        project_id=str(p.project_id),
        data_kind=p.data_kind,  # type: ignore[arg-type]
        domain=p.domain,
        priority=p.priority,
        deadline=timestamp(p.deadline),
        instructions_markdown=p.instructions,
        pay=activated.pay,
        currency_code=activated.currency_code,
        lease_duration=activated.lease_duration,
        typical_minutes=(view.typical_seconds or 0) / 60,
        minimum_quality=p.min_quality,
    )
    if p.screening_tasks:
        out.screening.CopyFrom(activated.qualifications.screening)
        out.screening_status = pb.SCREENING_STATUS_PASSED if view.screening_passed else pb.SCREENING_STATUS_PENDING
    else:
        out.screening_status = pb.SCREENING_STATUS_NOT_REQUIRED
    return out


def lease_to_proto(lease: app.Lease) -> pb.Assignment:
    out = assignment_to_proto(lease.assignment)
    out.input.CopyFrom(TaskInput.FromString(lease.input))
    out.display_order.extend(
        display_order(str(lease.assignment.assignment_id), [c.candidate_id for c in out.input.candidates])
    )
    out.data_kind = lease.project.data_kind  # type: ignore[assignment]
    out.instructions_markdown = lease.project.instructions
    out.rubric.CopyFrom(
        types.Rubric(
            criteria=[
                types.RubricCriterion(
                    name=c.name,
                    description=c.description,
                    weight=c.weight,
                    scale_min=c.scale_min,
                    scale_max=c.scale_max,
                )
                for c in lease.project.rubric
            ]
        )
    )
    return out


def payload_from_proto(p: sub_pb.SubmissionPayload) -> Payload:
    case = p.WhichOneof("kind")
    if case == "sft":
        return Payload(case, {"response": p.sft.response, "reasoning": p.sft.reasoning})
    if case == "preference":
        return Payload(
            case,
            {"rationale": p.preference.rationale},
            ranking=tuple(p.preference.ranking),
            scores=tuple(sorted(p.preference.criterion_scores.items())),
        )
    if case == "trajectory":
        steps = tuple(Step(s.kind, s.content, s.tool_name, s.tool_arguments_json) for s in p.trajectory.steps)
        return Payload(case, {"final_answer": p.trajectory.final_answer}, steps=steps)
    if case == "rubric_grade":
        return Payload(case, {"comments": p.rubric_grade.comments}, scores=tuple(sorted(p.rubric_grade.scores.items())))
    if case == "adversarial":
        a = p.adversarial
        return Payload(case, {"prompt": a.prompt, "reference": a.reference, "failure": a.failure})
    return Payload(None, {})


class WorkServicer(pb_grpc.WorkServiceServicer):
    def __init__(self, pool: asyncpg.Pool, eligibility: EligibilityCache, clock: Clock = SYSTEM_CLOCK) -> None:
        self._pool = pool
        self._eligibility = eligibility
        self._clock = clock

    async def AcquireTask(self, request: pb.AcquireTaskRequest, context: GrpcContext) -> pb.AcquireTaskResponse:
        expert_id = require_expert()
        only = parse_uuid(request.project_id, "project_id") if request.project_id else None
        lease = await app.acquire(self._pool, expert_id, self._eligibility, only, clock=self._clock)
        if lease is None:
            return pb.AcquireTaskResponse()
        return pb.AcquireTaskResponse(assignment=lease_to_proto(lease))

    async def Heartbeat(self, request: pb.HeartbeatRequest, context: GrpcContext) -> pb.HeartbeatResponse:
        expert_id = require_expert()
        expire = await app.heartbeat(
            self._pool, expert_id, parse_uuid(request.assignment_id, "assignment_id"), clock=self._clock
        )
        return pb.HeartbeatResponse(expire_time=timestamp(expire))

    async def ReleaseTask(self, request: pb.ReleaseTaskRequest, context: GrpcContext) -> pb.ReleaseTaskResponse:
        expert_id = require_expert()
        await app.release(self._pool, expert_id, parse_uuid(request.assignment_id, "assignment_id"))
        return pb.ReleaseTaskResponse()

    async def SubmitTask(self, request: pb.SubmitTaskRequest, context: GrpcContext) -> pb.SubmitTaskResponse:
        expert_id = require_expert()
        assignment_id = parse_uuid(request.assignment_id, "assignment_id")
        want_next = request.HasField("acquire_next")
        # Checked before anything is stored: a bad request leaves no submission behind.
        next_only = (
            parse_uuid(request.acquire_next.project_id, "acquire_next.project_id")
            if want_next and request.acquire_next.project_id
            else None
        )
        request_id = parse_uuid(request.request_id, "request_id") if request.request_id else None
        submission_id = await app.submit(
            self._pool,
            expert_id,
            assignment_id,
            payload_from_proto(request.payload),
            # Deterministic (map entries in key order), so a retry's bytes equal the first call's.
            request.payload.SerializeToString(deterministic=True),
            request_id,
            clock=self._clock,
        )
        response = pb.SubmitTaskResponse(submission_id=str(submission_id))
        if want_next:
            # The submission is stored whatever happens next, and the reply must say so: an expert
            # who may not take more work (suspended meanwhile, say) gets no lease here and hears
            # why from AcquireTask, and so does one whose lease the database failed to make.
            try:
                lease = await app.acquire(self._pool, expert_id, self._eligibility, next_only, clock=self._clock)
            except DomainError:
                lease = None
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                log.warning("submission %s stored; leasing the next task failed", submission_id, exc_info=True)
                lease = None
            if lease is not None:
                response.next_assignment.CopyFrom(lease_to_proto(lease))
        return response

    async def ListEligibleProjects(
        self, request: pb.ListEligibleProjectsRequest, context: GrpcContext
    ) -> pb.ListEligibleProjectsResponse:
        expert_id = require_expert()
        projects = await app.list_eligible(self._pool, expert_id)
        return pb.ListEligibleProjectsResponse(projects=[_eligible_to_proto(p, view) for p, view in projects])

    async def ListMyAssignments(
        self, request: pb.ListMyAssignmentsRequest, context: GrpcContext
    ) -> pb.ListMyAssignmentsResponse:
        expert_id = require_expert()
        size = paging.page_size(request.page_size)
        query = {"expert": expert_id}
        after = paging.decode_keyset(request.page_token, query, dt.datetime.fromisoformat, uuid.UUID)
        rows, more = await app.my_assignments(self._pool, expert_id, after, size)
        token = ""
        if more and rows:
            token = paging.encode([rows[-1].acquire_time.isoformat(), str(rows[-1].assignment_id)], query)
        return pb.ListMyAssignmentsResponse(assignments=[assignment_to_proto(a) for a in rows], next_page_token=token)
