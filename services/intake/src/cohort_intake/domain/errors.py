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
