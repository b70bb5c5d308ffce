"""A lab's dispute of a delivered item and QA's decision on it: upheld (the item is wrong) or
dismissed (it stands). A decision is final."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from cohort_runtime.domain_errors import InvalidInput, StateConflict, Violation

MAX_COMMENT_CHARS = 2000


class DisputeState(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Dispute:
    item_id: uuid.UUID
    project_id: uuid.UUID
    task_id: str
    audit_id: uuid.UUID
    lab_reason: str
    state: DisputeState
    comments: str
    decided_by: str
    dispute_time: dt.datetime
    decide_time: dt.datetime | None
    rework_revision: int = 0  # upheld: the revision the task was reopened at (0: none)


def decision(current: Dispute, uphold: bool, comments: str) -> DisputeState | None:
    """The state to move to, None when the same decision was already taken (a retried call)."""
    if not comments.strip() or len(comments) > MAX_COMMENT_CHARS:
        raise InvalidInput([Violation("comments", f"must say why, 1..{MAX_COMMENT_CHARS} characters")])
    wanted = DisputeState.UPHELD if uphold else DisputeState.DISMISSED
    if current.state is DisputeState.OPEN:
        return wanted
    if current.state is wanted:
        return None
    raise StateConflict(
        f"the dispute of item {current.item_id} was already {current.state.value}; a decision is final",
        f"disputes/{current.item_id}",
        current.state.value.upper(),
    )
