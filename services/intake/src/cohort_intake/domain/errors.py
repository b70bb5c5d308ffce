"""Intake's errors beyond the chassis's common ones; the gRPC edge maps every one by its base."""

from __future__ import annotations

from cohort_runtime.domain_errors import StateConflict


class NotReady(StateConflict):
    """The project lacks something the requested change needs (e.g. its screening tasks)."""

    def __init__(self, project_id: object, what: str, message: str) -> None:
        super().__init__(message, subject=f"projects/{project_id}", state=what)
        self.project_id = str(project_id)
        self.what = what


class IllegalTransition(StateConflict):
    """The project's state does not allow the requested change."""

    def __init__(self, project_id: object, state: str, action: str) -> None:
        super().__init__(
            f"cannot {action} project {project_id}: it is {state}", subject=f"projects/{project_id}", state=state
        )
        self.project_id = str(project_id)
        self.action = action
