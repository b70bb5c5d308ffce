"""A lab's audit of delivered work: one lot, its ISO 2859-1 sample, the lab's findings and the lot's
decision (domain/sampling_plans.py has the plan)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from cohort_intake.domain.sampling_plans import SamplingPlan
from cohort_runtime.domain_errors import InvalidInput, StateConflict, Violation

MAX_REASON_CHARS = 2000
MAX_FINDINGS_PER_CALL = 1000


class Finding(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class DisputeState(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Decision(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class SampledItem:
    item_id: uuid.UUID
    task_id: str
    finding: Finding | None = None
    reason: str = ""
    finding_time: dt.datetime | None = None
    dispute: DisputeState | None = None
    qa_comments: str = ""
    rework_revision: int = 0  # upheld: the revision being made by new experts (0: none)
    rework_item_id: uuid.UUID | None = None  # the item that replaces this one, once delivered


@dataclass(frozen=True)
class Audit:
    audit_id: uuid.UUID
    project_id: uuid.UUID
    plan: SamplingPlan
    accepted_count: int
    rejected_count: int
    decision: Decision
    create_time: dt.datetime
    decide_time: dt.datetime | None
    items: tuple[SampledItem, ...] = ()


@dataclass(frozen=True)
class NewFinding:
    item_id: uuid.UUID
    finding: Finding
    reason: str


def decide(plan: SamplingPlan, accepted: int, rejected: int) -> Decision:
    """Rejected as soon as Re items are (more findings cannot change that); accepted once every
    sampled item has a finding with at most Ac rejected."""
    if rejected >= plan.rejection_number:
        return Decision.REJECTED
    if accepted + rejected >= plan.sample_size:
        return Decision.ACCEPTED
    return Decision.PENDING


def changes(sample: dict[uuid.UUID, SampledItem], findings: list[NewFinding]) -> list[NewFinding]:
    """The findings that are new; InvalidInput for findings that are malformed or name an item not
    in the sample, StateConflict for one that would change a recorded finding."""
    violations: list[Violation] = []
    if not 1 <= len(findings) <= MAX_FINDINGS_PER_CALL:
        violations.append(Violation("findings", f"must hold 1..{MAX_FINDINGS_PER_CALL} findings"))
    seen: set[uuid.UUID] = set()
    for i, f in enumerate(findings):
        if f.item_id not in sample:
            violations.append(Violation(f"findings[{i}].item_id", "is not in this audit's sample"))
        elif f.item_id in seen:
            violations.append(Violation(f"findings[{i}].item_id", "appears twice"))
        seen.add(f.item_id)
        if f.finding is Finding.REJECTED and not f.reason.strip():
            violations.append(Violation(f"findings[{i}].reason", "is required for a rejected item"))
        if len(f.reason) > MAX_REASON_CHARS:
            violations.append(Violation(f"findings[{i}].reason", f"must be at most {MAX_REASON_CHARS} characters"))
    if violations:
        raise InvalidInput(violations)
    new = []
    for f in findings:
        recorded = sample[f.item_id].finding
        if recorded is None:
            new.append(f)
        elif recorded is not f.finding:
            raise StateConflict(
                f"item {f.item_id} was already found {recorded.value}; a finding is final",
                f"audits/items/{f.item_id}",
                recorded.value.upper(),
            )
    return new
