"""Intake's error hierarchy; the API edge maps each to a gRPC status."""

from __future__ import annotations

from dataclasses import dataclass


class IntakeError(Exception):
    """Base of every error intake reports to a caller on purpose."""


@dataclass(frozen=True)
class Violation:
    field: str
    description: str


class InvalidInput(IntakeError):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class NotFoundError(IntakeError):
    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"{kind} {identifier!r} not found")
        self.kind = kind
        self.identifier = identifier


class IdempotencyConflict(IntakeError):
    """A request_id was reused with a different request body."""


class NotReady(IntakeError):
    """The project lacks something the requested change needs (e.g. its screening tasks)."""

    def __init__(self, project_id: object, what: str, message: str) -> None:
        super().__init__(message)
        self.project_id = str(project_id)
        self.what = what


class IllegalTransition(IntakeError):
    """The project's state does not allow the requested change."""

    def __init__(self, project_id: object, state: str, action: str) -> None:
        super().__init__(f"cannot {action} project {project_id}: it is {state}")
        self.project_id = str(project_id)
        self.state = state
        self.action = action


class QuotaExceeded(IntakeError):
    """A lab used up a quota (projects created per hour, say); it may try again after a while."""

    def __init__(self, subject: str, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.subject = subject
        self.retry_after_seconds = retry_after_seconds
