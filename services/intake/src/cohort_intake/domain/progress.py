"""A project's progress: counters fed by other services' events, and what a lab is shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

BUDGET_PAUSE_REASON = "budget cap reached"


@dataclass(frozen=True)
class Counters:
    tasks_total: int
    tasks_with_submission: int
    submissions_received: int
    submissions_accepted: int
    submissions_rejected: int
    items_delivered: int
    agreement_sum: float
    confidence_sum: float
    committed_minor: int
    spent_minor: int
    update_time: dt.datetime

    @property
    def tasks_queued(self) -> int:
        return max(self.tasks_total - self.tasks_with_submission, 0)

    @property
    def submissions_pending(self) -> int:
        return max(self.submissions_received - self.submissions_accepted - self.submissions_rejected, 0)

    @property
    def mean_agreement(self) -> float:
        return self.agreement_sum / self.items_delivered if self.items_delivered else 0.0

    @property
    def mean_confidence(self) -> float:
        return self.confidence_sum / self.items_delivered if self.items_delivered else 0.0
