"""Projects and their lifecycle: draft -> active <-> paused -> completed | cancelled."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, replace

from cohort_intake.domain.errors import IllegalTransition
from cohort_intake.domain.spec import ProjectSpec


class ProjectState(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Transition(enum.StrEnum):
    ACTIVATE = "activate"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    COMPLETE = "complete"


_ALLOWED: dict[Transition, tuple[frozenset[ProjectState], ProjectState]] = {
    Transition.ACTIVATE: (frozenset({ProjectState.DRAFT}), ProjectState.ACTIVE),
    Transition.PAUSE: (frozenset({ProjectState.ACTIVE}), ProjectState.PAUSED),
    Transition.RESUME: (frozenset({ProjectState.PAUSED}), ProjectState.ACTIVE),
    Transition.CANCEL: (
        frozenset({ProjectState.DRAFT, ProjectState.ACTIVE, ProjectState.PAUSED}),
        ProjectState.CANCELLED,
    ),
    Transition.COMPLETE: (frozenset({ProjectState.ACTIVE, ProjectState.PAUSED}), ProjectState.COMPLETED),
}

TASKS_ACCEPTED_IN = frozenset({ProjectState.DRAFT, ProjectState.ACTIVE, ProjectState.PAUSED})


@dataclass(frozen=True)
class Project:
    project_id: uuid.UUID
    lab_id: uuid.UUID
    state: ProjectState
    spec: ProjectSpec
    instructions_version: int
    rubric_version: int
    pause_reason: str
    create_time: dt.datetime
    update_time: dt.datetime

    def apply(self, transition: Transition, now: dt.datetime, reason: str = "") -> Project:
        sources, target = _ALLOWED[transition]
        if self.state not in sources:
            raise IllegalTransition(self.project_id, self.state.value, transition.value)
        return replace(
            self,
            state=target,
            pause_reason=reason if target is ProjectState.PAUSED else "",
            update_time=now,
        )

    def with_spec(self, spec: ProjectSpec, now: dt.datetime) -> Project:
        """A draft with a changed spec; instructions and rubric versions follow their content."""
        if self.state is not ProjectState.DRAFT:
            raise IllegalTransition(self.project_id, self.state.value, "update")
        return replace(
            self,
            spec=spec,
            instructions_version=self.instructions_version
            + (spec.instructions_markdown != self.spec.instructions_markdown),
            rubric_version=self.rubric_version + (spec.rubric != self.spec.rubric),
            update_time=now,
        )


def new_project(lab_id: uuid.UUID, spec: ProjectSpec, now: dt.datetime) -> Project:
    return Project(
        project_id=uuid.uuid4(),
        lab_id=lab_id,
        state=ProjectState.DRAFT,
        spec=spec,
        instructions_version=1,
        rubric_version=1,
        pause_reason="",
        create_time=now,
        update_time=now,
    )
