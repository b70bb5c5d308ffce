"""ProjectActivated carries the spec's fields by name: nothing of the spec is left behind, and a
field added to both messages travels without a mapping to update."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf import wrappers_pb2

from cohort.events.v1 import projects_pb2 as events
from cohort.intake.v1 import projects_pb2 as pb
from cohort_intake.domain.projects import Project, ProjectState
from cohort_intake.events.project_events import activated, copy_shared_fields
from cohort_intake.mapping import spec_from_proto, spec_to_proto

from ..spec_factory import valid_spec

NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_every_field_the_event_shares_with_the_spec_is_carried():
    proto = valid_spec(priority=70, per_expert_task_cap=40)
    proto.lease_duration.FromTimedelta(dt.timedelta(minutes=45))
    project = Project(
        project_id=uuid.uuid4(), lab_id=uuid.uuid4(), state=ProjectState.DRAFT, spec=spec_from_proto(proto),
        instructions_version=2, rubric_version=3, pause_reason="", create_time=NOW, update_time=NOW,
    )  # fmt: skip
    message = activated(project, NOW)
    spec = spec_to_proto(project.spec)
    shared = set(pb.ProjectSpec.DESCRIPTOR.fields_by_name) & set(events.ProjectActivated.DESCRIPTOR.fields_by_name)
    assert shared == set(pb.ProjectSpec.DESCRIPTOR.fields_by_name) - {"title"}
    for name in shared:
        assert getattr(message, name) == getattr(spec, name), name
    assert message.lease_duration.ToTimedelta() == dt.timedelta(minutes=45) and message.per_expert_task_cap == 40
    assert (message.instructions_version, message.rubric_version) == (2, 3)
    assert message.project_id == str(project.project_id)
    assert message.activate_time.ToDatetime(tzinfo=dt.UTC) == NOW


def test_a_field_of_the_same_name_and_another_type_is_refused():
    copied = wrappers_pb2.StringValue()
    copy_shared_fields(wrappers_pb2.StringValue(value="x"), copied)
    assert copied.value == "x"
    with pytest.raises(TypeError):
        copy_shared_fields(wrappers_pb2.StringValue(value="x"), wrappers_pb2.Int64Value())
