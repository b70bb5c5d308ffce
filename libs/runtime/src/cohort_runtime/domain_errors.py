"""The errors domain and application code raise, free of any transport.

Domain modules import this and nothing else of the chassis: it depends on the standard library
only. The gRPC edge (`cohort_runtime.grpc_errors`) maps each class to a status with details, so a
service needs no mapper of its own; a service adds a subclass only when it carries extra meaning
(e.g. intake's `IllegalTransition` is a `StateConflict` with the project and action named).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a service reports to its caller on purpose (never INTERNAL)."""


@dataclass(frozen=True)
class Violation:
    """One invalid field: its path in the request (e.g. `spec.overlap`) and what is wrong."""

    field: str
    description: str


class InvalidInput(DomainError):
    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in self.violations))


class NotFoundError(DomainError):
    def __init__(self, kind: str, identifier: object) -> None:
        super().__init__(f"{kind} {str(identifier)!r} not found")
        self.kind = kind
        self.identifier = str(identifier)


class Conflict(DomainError):
    """The resource exists with other content (an idempotency key reused with another body)."""


class NotAllowed(DomainError):
    """The caller may not act on this resource (someone else's lease, a suspended expert)."""


class StateConflict(DomainError):
    """The resource's state forbids the action (an expired lease, a closed project)."""

    def __init__(self, message: str, subject: str, state: str) -> None:
        super().__init__(message)
        self.subject = subject
        self.state = state


class QuotaExceeded(DomainError):
    """A caller used up a quota; it may try again after `retry_after_seconds`."""

    def __init__(self, subject: str, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.subject = subject
        self.retry_after_seconds = retry_after_seconds
