"""Payout's error hierarchy; the API edge maps each to a gRPC status."""

from __future__ import annotations

from dataclasses import dataclass


class PayoutError(Exception):
    """Base of every error payout reports to a caller on purpose."""


@dataclass(frozen=True)
class Violation:
    field: str
    description: str


class InvalidInput(PayoutError):
    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class NotFoundError(PayoutError):
    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"{kind} {identifier!r} not found")
        self.kind = kind
        self.identifier = identifier


class Conflict(PayoutError):
    """An idempotency key reused with different content."""


class StateConflict(PayoutError):
    def __init__(self, message: str, subject: str, state: str) -> None:
        super().__init__(message)
        self.subject = subject
        self.state = state
