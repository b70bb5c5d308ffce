"""Events tasking publishes about work: SubmissionCreated and AssignmentExpired."""

from __future__ import annotations

import datetime as dt
import uuid

from cohort.events.v1 import submissions_pb2 as events
from cohort.types.v1.submissions_pb2 import SubmissionPayload
from cohort_runtime.fields import timestamp
from cohort_tasking.domain.assignments import Assignment


def submission_created(
    submission_id: uuid.UUID,
    a: Assignment,
    payload: bytes,
    now: dt.datetime,
    active: int,
    is_gold: bool,
    kind: int,
    is_screening: bool = False,
    shown_order: list[str] | None = None,
    task_revision: int = 1,
) -> events.SubmissionCreated:
    return events.SubmissionCreated(
        submission_id=str(submission_id),
        project_id=str(a.project_id),
        task_id=a.task_id,
        submit_time=timestamp(now),
        expert_id=a.expert_id,
        assignment_id=str(a.assignment_id),
        payload=SubmissionPayload.FromString(payload),
        acquire_time=timestamp(a.acquire_time),
        active_seconds=active,
        is_gold=is_gold,
        data_kind=kind,  # type: ignore[arg-type]
        is_screening=is_screening,
        shown_order=shown_order or [],
        task_revision=task_revision,
    )


def assignment_expired(a: Assignment) -> events.AssignmentExpired:
    return events.AssignmentExpired(
        assignment_id=str(a.assignment_id),
        project_id=str(a.project_id),
        task_id=a.task_id,
        expert_id=a.expert_id,
        expire_time=timestamp(a.expire_time),
    )
