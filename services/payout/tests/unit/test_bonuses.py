"""The quality-bonus rule: top share by acceptance rate per project, ties included, rounded down."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from cohort_payout.domain.bonuses import BonusRule, ExpertPeriod, awards
from cohort_runtime.domain_errors import InvalidInput

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
P1, P2 = uuid.UUID(int=1), uuid.UUID(int=2)


def rule(**kw) -> BonusRule:
    base = dict(
        period_id="2026-11",
        start=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        currency="EUR",
        bonus_bps=1000,
        top_share=0.1,
        min_decided=5,
    )
    base.update(kw)
    return BonusRule(**base)


def test_top_decile_per_project_with_ties_and_eligibility() -> None:
    stats = [ExpertPeriod(f"e{i:02d}", P1, accepted=10 - i % 10, decided=10, earned=1000) for i in range(20)]
    stats += [ExpertPeriod("few", P1, accepted=4, decided=4, earned=999)]  # 100% but too few decided
    stats += [ExpertPeriod("solo", P2, accepted=3, decided=6, earned=555)]
    got = awards(rule(), stats)
    # 20 eligible in P1 -> top 2; e00 and e10 both have 10/10.
    assert [(a.expert_id, a.project_id, a.amount) for a in got] == [
        ("e00", P1, 100),
        ("e10", P1, 100),
        ("solo", P2, 55),
    ]
    tied = [ExpertPeriod(f"t{i}", P1, accepted=9, decided=10, earned=1001) for i in range(3)]
    assert [a.amount for a in awards(rule(), tied)] == [100, 100, 100], "ties at the bar all earn it, rounded down"
    assert awards(rule(), [ExpertPeriod("zero", P1, 0, 10, 0)]) == []


def test_rule_validation_names_every_bad_field() -> None:
    bad = rule(period_id="no spaces", end=NOW, currency="eur", bonus_bps=0, top_share=1.5, min_decided=0)
    with pytest.raises(InvalidInput) as err:
        bad.validate(NOW)
    assert {v.field for v in err.value.violations} == {
        "period_id",
        "end_time",
        "currency_code",
        "bonus_bps",
        "top_share",
        "min_decided",
    }
    rule().validate(NOW + dt.timedelta(minutes=2))


def test_a_scheduled_slot_always_asks_for_the_same_run() -> None:
    from cohort_payout.app.schedule import scheduled_request

    week = dt.timedelta(days=7)
    a = scheduled_request("EUR", week, 1000, NOW)
    b = scheduled_request("EUR", week, 1000, NOW + dt.timedelta(hours=1))
    c = scheduled_request("EUR", week, 1000, NOW + week)
    assert a.request_id == b.request_id != c.request_id
    assert scheduled_request("USD", week, 1000, NOW).request_id != a.request_id
    assert (a.currency, a.cutoff, a.min_amount) == ("EUR", None, 1000)
