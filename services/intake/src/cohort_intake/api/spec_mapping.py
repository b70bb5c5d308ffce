"""cohort.intake.v1.ProjectSpec / Project <-> domain, and field-masked updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from google.protobuf.field_mask_pb2 import FieldMask

from cohort.intake.v1 import projects_pb2 as pb
from cohort_intake.domain.projects import Project, ProjectState
from cohort_intake.domain.spec import ProjectSpec
from cohort_intake.mapping import spec_from_proto, spec_to_proto
from cohort_runtime.domain_errors import InvalidInput, Violation
from cohort_runtime.fields import timestamp

STATES: dict[ProjectState, pb.ProjectState.ValueType] = {
    ProjectState.DRAFT: pb.PROJECT_STATE_DRAFT,
    ProjectState.ACTIVE: pb.PROJECT_STATE_ACTIVE,
    ProjectState.PAUSED: pb.PROJECT_STATE_PAUSED,
    ProjectState.COMPLETED: pb.PROJECT_STATE_COMPLETED,
    ProjectState.CANCELLED: pb.PROJECT_STATE_CANCELLED,
}
_STATES_BACK = {v: k for k, v in STATES.items()}


def state_filter(value: int) -> ProjectState | None:
    if value == pb.PROJECT_STATE_UNSPECIFIED:
        return None
    state = _STATES_BACK.get(cast("pb.ProjectState.ValueType", value))
    if state is None:
        raise InvalidInput([Violation("state", f"unknown project state {value}")])
    return state


def project_to_proto(p: Project) -> pb.Project:
    return pb.Project(
        project_id=str(p.project_id),
        lab_id=str(p.lab_id),
        state=STATES[p.state],
        spec=spec_to_proto(p.spec),
        instructions_version=p.instructions_version,
        rubric_version=p.rubric_version,
        pause_reason=p.pause_reason,
        create_time=timestamp(p.create_time),
        update_time=timestamp(p.update_time),
    )


def masked_update(mask: FieldMask, new_values: pb.ProjectSpec) -> Callable[[ProjectSpec], ProjectSpec]:
    """A function current spec -> spec with the masked fields taken from `new_values`."""
    paths = list(mask.paths)
    if not paths:
        raise InvalidInput([Violation("update_mask", "must name the fields to change (or '*')")])
    if paths == ["*"]:
        return lambda _current: spec_from_proto(new_values)
    if not mask.IsValidForDescriptor(pb.ProjectSpec.DESCRIPTOR):
        raise InvalidInput([Violation("update_mask", f"names a field ProjectSpec does not have: {paths}")])

    def apply(current: ProjectSpec) -> ProjectSpec:
        merged = spec_to_proto(current)
        mask.MergeMessage(new_values, merged, replace_message_field=True, replace_repeated_field=True)
        return spec_from_proto(merged)

    return apply
