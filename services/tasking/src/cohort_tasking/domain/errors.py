"""Tasking's error hierarchy; the API edge maps each to a gRPC status."""

from __future__ import annotations

from dataclasses import dataclass


class TaskingError(Exception):
    """Base of every error tasking reports to a caller on purpose."""


@dataclass(frozen=True)
class Violation:
    field: str
    description: str


class InvalidInput(TaskingError):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class NotFoundError(TaskingError):
    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"{kind} {identifier!r} not found")
        self.kind = kind
        self.identifier = identifier


class Conflict(TaskingError):
    """The resource exists with other content."""


class NotAllowed(TaskingError):
    """The caller may not act on this resource (someone else's lease, a suspended expert)."""


class StateConflict(TaskingError):
    """The resource's state forbids the action (an expired lease, a closed project)."""

    def __init__(self, message: str, subject: str, state: str) -> None:
        super().__init__(message)
        self.subject = subject
        self.state = state
