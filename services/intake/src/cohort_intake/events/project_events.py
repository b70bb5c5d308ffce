"""The events a project's lifecycle publishes (topic cohort.intake.projects.v1, key project id)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf.message import Message

from cohort.events.v1 import projects_pb2 as events
from cohort_intake.domain.projects import Project, Transition
from cohort_intake.domain.spec import DEFAULT_LEASE
from cohort_intake.mapping import duration, spec_to_proto
from cohort_runtime.fields import timestamp


def activated(p: Project, now: dt.datetime) -> events.ProjectActivated:
    """The project as tasking, QA and payout need it: its spec's fields (the event repeats them
    by name; a title is intake's own), the versions and when it went live."""
    s = p.spec
    if s.data_kind is None or s.deadline is None:  # validation makes this unreachable
        raise ValueError(f"project {p.project_id} cannot be activated without data kind and deadline")
    spec = spec_to_proto(s)
    if not spec.HasField("lease_duration"):
        spec.lease_duration.CopyFrom(duration(DEFAULT_LEASE))
    message = events.ProjectActivated(
        project_id=str(p.project_id),
        lab_id=str(p.lab_id),
        instructions_version=p.instructions_version,
        rubric_version=p.rubric_version,
        activate_time=timestamp(now),
    )
    copy_shared_fields(spec, message)
    return message


def copy_shared_fields(source: Message, target: Message) -> None:
    """Copy every set field of `source` that `target` has by the same name; a field of the same
    name but another type is a mistake in the protos, not something to convert."""
    fields = target.DESCRIPTOR.fields_by_name
    for field, value in source.ListFields():
        other = fields.get(field.name)
        if other is None:
            continue
        if _type_of(field) != _type_of(other):
            raise TypeError(f"{field.full_name} and {other.full_name} differ in type")
        if field.is_repeated:
            getattr(target, field.name).extend(value)
        elif field.type == field.TYPE_MESSAGE:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)


def _type_of(field: Any) -> tuple[object, ...]:
    # Any: protobuf hands out its C (upb) descriptors, which the stubs type apart from the Python ones.
    message = field.message_type.full_name if field.message_type else None
    enum = field.enum_type.full_name if field.enum_type else None
    return field.type, field.is_repeated, message, enum


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
