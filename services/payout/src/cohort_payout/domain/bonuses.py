"""Quality bonuses: at a period's close, the best experts of each project by acceptance rate earn
a share of what they earned in it. Paid by the platform (`platform:bonuses`), not the lab: a bonus
never eats into a project's budget.

bonus: platform bonuses (expense) → expert payable   (key bonus:<period>:<project>:<expert>)
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass

from cohort_payout.domain.ledger import Posting, currency_violations, expert_account, move
from cohort_runtime.domain_errors import InvalidInput, Violation

BONUSES = "platform:bonuses"
CLOSE_DELAY = dt.timedelta(minutes=1)
_PERIOD = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True)
class BonusRule:
    period_id: str
    start: dt.datetime
    end: dt.datetime
    currency: str
    bonus_bps: int
    top_share: float
    min_decided: int

    def validate(self, now: dt.datetime) -> None:
        v: list[Violation] = []
        if not _PERIOD.match(self.period_id):
            v.append(Violation("period_id", "1..64 of [A-Za-z0-9._-]"))
        if not self.start < self.end:
            v.append(Violation("end_time", "must be after start_time"))
        if self.end > now - CLOSE_DELAY:
            # A minute's margin: a batch stamped just before the end has certainly committed.
            v.append(Violation("end_time", "must be at least a minute in the past: only a closed period gets bonuses"))
        v += currency_violations(self.currency)
        if not 1 <= self.bonus_bps <= 10_000:
            v.append(Violation("bonus_bps", "must be 1..10000"))
        if not 0 < self.top_share <= 1 or math.isnan(self.top_share):
            v.append(Violation("top_share", "must be in (0, 1]"))
        if self.min_decided < 1:
            v.append(Violation("min_decided", "must be >= 1"))
        if v:
            raise InvalidInput(v)


@dataclass(frozen=True)
class ExpertPeriod:
    """An expert's decided work in one project during the period."""

    expert_id: str
    project_id: uuid.UUID
    accepted: int
    decided: int
    earned: int

    @property
    def rate(self) -> float:
        return self.accepted / self.decided if self.decided else 0.0


@dataclass(frozen=True)
class Award:
    expert_id: str
    project_id: uuid.UUID
    amount: int
    acceptance_rate: float


def awards(rule: BonusRule, stats: list[ExpertPeriod]) -> list[Award]:
    """Per project: eligible experts ranked by acceptance rate; the top share (at least one, and
    everyone tied with the last one in) earns bonus_bps of their accepted earnings, rounded down."""
    by_project: dict[uuid.UUID, list[ExpertPeriod]] = defaultdict(list)
    for s in stats:
        if s.decided >= rule.min_decided and s.earned > 0:
            by_project[s.project_id].append(s)
    out: list[Award] = []
    for project_id in sorted(by_project):
        ranked = sorted(by_project[project_id], key=lambda s: (-s.rate, s.expert_id))
        k = max(1, math.ceil(len(ranked) * rule.top_share))
        bar = ranked[k - 1].rate
        for s in ranked:
            if s.rate < bar:
                break
            amount = s.earned * rule.bonus_bps // 10_000
            if amount > 0:
                out.append(Award(s.expert_id, project_id, amount, s.rate))
    return out


def posting(rule: BonusRule, award: Award) -> Posting:
    return move(
        f"bonus:{rule.period_id}:{award.project_id}:{award.expert_id}",
        "quality_bonus",
        rule.currency,
        award.amount,
        debit=BONUSES,
        credit=expert_account(award.expert_id, "payable"),
    )
