"""The events a project's lifecycle publishes (topic cohort.intake.projects.v1, key project id)."""

from __future__ import annotations

import datetime as dt

from google.protobuf.message import Message

from cohort.events.v1 import projects_pb2 as events
from cohort_intake.domain.projects import Project, Transition
from cohort_intake.domain.spec import DEFAULT_LEASE
from cohort_intake.mapping import DATA_KINDS, duration, pay_to_proto, qualifications_to_proto, rubric_to_proto
from cohort_runtime.fields import timestamp


def activated(p: Project, now: dt.datetime) -> events.ProjectActivated:
    s = p.spec
    if s.data_kind is None or s.deadline is None:  # validation makes this unreachable
        raise ValueError(f"project {p.project_id} cannot be activated without data kind and deadline")
    return events.ProjectActivated(
        project_id=str(p.project_id),
        lab_id=str(p.lab_id),
        data_kind=DATA_KINDS[s.data_kind],
        domain=s.domain,
        qualifications=qualifications_to_proto(s.qualifications),
        instructions_markdown=s.instructions_markdown,
        instructions_version=p.instructions_version,
        rubric=rubric_to_proto(s.rubric),
        rubric_version=p.rubric_version,
        target_accepted_items=s.target_accepted_items,
        overlap=s.overlap,
        max_overlap=s.max_overlap,
        gold_rate=s.gold_rate,
        review_sample_rate=s.review_sample_rate,
        pay=pay_to_proto(s.pay),
        currency_code=s.currency_code,
        budget_cap_minor=s.budget_cap_minor,
        deadline=timestamp(s.deadline),
        priority=s.priority,
        lease_duration=duration(s.lease or DEFAULT_LEASE),
        per_expert_task_cap=s.per_expert_task_cap,
        activate_time=timestamp(now),
    )


def for_transition(p: Project, what: Transition, reason: str, now: dt.datetime) -> tuple[str, Message]:
    pid = str(p.project_id)
    message: Message
    if what is Transition.ACTIVATE:
        message = activated(p, now)
    elif what is Transition.PAUSE:
        message = events.ProjectPaused(project_id=pid, reason=reason, pause_time=timestamp(now))
    elif what is Transition.RESUME:
        message = events.ProjectResumed(project_id=pid, resume_time=timestamp(now))
    elif what is Transition.CANCEL:
        message = events.ProjectCancelled(project_id=pid, reason=reason, cancel_time=timestamp(now))
    else:
        message = events.ProjectCompleted(project_id=pid, complete_time=timestamp(now))
    return pid, message
