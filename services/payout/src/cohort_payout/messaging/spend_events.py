"""ProjectSpendUpdated, published whenever a project's committed or spent amount changes."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from cohort.events.v1 import spend_pb2
from cohort_payout.domain.earnings import RateCard


def spend_updated(
    card: RateCard, committed: int, spent: int, cap_reached: bool, now: dt.datetime
) -> spend_pb2.ProjectSpendUpdated:
    as_of = Timestamp()
    as_of.FromDatetime(now)
    return spend_pb2.ProjectSpendUpdated(
        project_id=str(card.project_id),
        currency_code=card.currency,
        committed_minor=committed,
        spent_minor=spent,
        budget_cap_minor=card.budget_cap,
        cap_reached=cap_reached,
        as_of=as_of,
    )
