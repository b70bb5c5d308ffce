"""Assignments: leases of one task slot to one expert."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass


class AssignmentState(enum.StrEnum):
    ACTIVE = "active"
    SUBMITTED = "submitted"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Assignment:
    assignment_id: uuid.UUID
    slot_id: int
    expert_id: str
    project_id: uuid.UUID
    task_id: str
    state: AssignmentState
    acquire_time: dt.datetime
    expire_time: dt.datetime
    last_beat: dt.datetime
    active_seconds: int

    def live(self, now: dt.datetime) -> bool:
        return self.state is AssignmentState.ACTIVE and self.expire_time > now
