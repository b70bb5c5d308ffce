"""ProjectSpendUpdated, published whenever a project's committed or spent amount changes."""

from __future__ import annotations

import datetime as dt

from cohort.events.v1 import spend_pb2
from cohort_payout.domain.earnings import RateCard
from cohort_runtime.fields import timestamp


def spend_updated(
    card: RateCard, committed: int, spent: int, cap_reached: bool, now: dt.datetime
) -> spend_pb2.ProjectSpendUpdated:
    as_of = timestamp(now)
    return spend_pb2.ProjectSpendUpdated(
        project_id=str(card.project_id),
        currency_code=card.currency,
        committed_minor=committed,
        spent_minor=spent,
        budget_cap_minor=card.budget_cap,
        cap_reached=cap_reached,
        as_of=as_of,
    )
