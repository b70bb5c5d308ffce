"""A stateful test of earnings: submissions, verdicts and rate cards arrive in any order, some
twice; after every step the ledger must balance and credit each accepted submission exactly once.
Some submissions are rework (after a lab's upheld dispute): their experts are paid the same, by
the platform, and the project is charged only for the others.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from cohort_payout.app import earnings
from cohort_payout.config import PayoutSettings
from cohort_payout.db import ledger
from cohort_payout.domain.earnings import RateCard
from cohort_payout.domain.ledger import (
    FEES,
    REWORK_COMMITTED,
    REWORK_SPEND,
    expert_account,
    fee,
    project_account,
)
from cohort_runtime.testing import SyncDatabase

EXPERTS = ["exp_pay0001", "exp_pay0002", "exp_pay0003"]


@pytest.fixture(scope="module")
def harness(database_url):
    db = SyncDatabase(
        database_url, f"t_pay_{uuid.uuid4().hex[:10]}", "payout", PayoutSettings.model_fields["migrations_dir"].default
    )
    yield db
    db.close()


def test_earnings_match_their_model(harness):
    class Earnings(RuleBasedStateMachine):
        subs = Bundle("subs")

        @initialize(
            rate=st.integers(1, 5000),
            fee_bps=st.sampled_from([0, 1500, 2000]),
            budget_items=st.integers(1, 40),
            card_first=st.booleans(),
        )
        def project(self, rate: int, fee_bps: int, budget_items: int, card_first: bool) -> None:
            self.pid = uuid.uuid4()
            self.card = RateCard(self.pid, "EUR", rate, None, 0, 0, budget_items * (rate + fee(rate, fee_bps)), fee_bps)
            self.card_known = False
            tag = uuid.uuid4().hex[:8]
            self.experts = [f"{e}_{tag}" for e in EXPERTS]  # fresh per example: balances are exact
            self.created: dict[uuid.UUID, str] = {}
            self.rework: dict[uuid.UUID, bool] = {}
            self.verdicts: dict[uuid.UUID, bool] = {}
            # The platform's rework accounts are shared by every example: count from here.
            self.rework_base = {a: harness.run(_balance(a)) for a in (REWORK_SPEND, REWORK_COMMITTED)}
            if card_first:
                self.activate()

        def activate(self) -> None:
            harness.transaction(earnings.project_activated, self.card)
            self.card_known = True

        @rule(target=subs)
        def new_submission(self) -> uuid.UUID:
            return uuid.uuid4()

        @rule()
        def late_card(self) -> None:
            self.activate()  # also a redelivery when already known

        @rule(sub=subs, which=st.integers(0, len(EXPERTS) - 1), rework=st.booleans())
        def created(self, sub: uuid.UUID, which: int, rework: bool) -> None:
            expert, rework = self.created.get(sub, self.experts[which]), self.rework.get(sub, rework)
            harness.transaction(earnings.submission_created, sub, self.pid, expert, 0, rework)
            self.created.setdefault(sub, expert)
            self.rework.setdefault(sub, rework)

        @rule(sub=subs, accepted=st.booleans())
        def decided(self, sub: uuid.UUID, accepted: bool) -> None:
            harness.transaction(earnings.submission_decided, sub, self.pid, self.verdicts.get(sub, accepted))
            self.verdicts.setdefault(sub, accepted)

        @invariant()
        def ledger_is_sound(self) -> None:
            if not hasattr(self, "pid"):
                return
            assert harness.run(_scalar(ledger.unbalanced_transactions)) == 0, "every transaction balances"
            assert harness.run(_scalar(ledger.drifted_balances)) == 0, "balances derive from entries"
            rows = harness.run(
                harness.pool.fetch(
                    "SELECT submission_id, expert_id, amount, state FROM submissions WHERE project_id = $1", self.pid
                )
            )
            state = {r["submission_id"]: r["state"] for r in rows}
            keys = harness.run(
                harness.pool.fetch(
                    "SELECT idempotency_key, kind FROM transactions WHERE idempotency_key LIKE ANY($1::text[])",
                    [f"%:{s}" for s in state] or ["-"],
                )
            )
            paid = ("earning_accepted", "rework_accepted")
            accepted_posts = [k["idempotency_key"].split(":", 1)[1] for k in keys if k["kind"] in paid]
            assert len(accepted_posts) == len(set(accepted_posts)), "credited at most once"
            for sub, s in state.items():
                credited = str(sub) in accepted_posts
                assert credited == (s == "accepted"), f"{sub} {s}: credited exactly when accepted"
                if self.verdicts.get(sub) is False:
                    assert s in ("waiting", "rejected", "pending") and not credited
                if sub in self.created and sub in self.verdicts and self.card_known:
                    # Past the budget cap too: work QA accepted is paid, work it rejected is not.
                    assert s == ("accepted" if self.verdicts[sub] else "rejected"), "both facts known: decided"
            rate, fee_amount = self.card.per_submission or 0, fee(self.card.per_submission or 0, self.card.fee_bps)
            accepted_by_expert = {e: 0 for e in self.experts}
            pending_by_expert = {e: 0 for e in self.experts}
            for r in rows:
                if r["state"] == "accepted":
                    accepted_by_expert[r["expert_id"]] += 1
                if r["state"] == "pending":
                    pending_by_expert[r["expert_id"]] += 1
            n_accepted = sum(accepted_by_expert.values())
            rework = {r["submission_id"] for r in rows if self.rework.get(r["submission_id"])}
            n_rework = sum(1 for s, st_ in state.items() if st_ == "accepted" and s in rework)
            pending = sum(1 for s, st_ in state.items() if st_ == "pending" and s not in rework)
            rework_pending = sum(1 for s, st_ in state.items() if st_ == "pending" and s in rework)
            bal = lambda name: harness.run(_balance(name))  # noqa: E731
            # The lab is charged for first work only; rework is the platform's, without a fee.
            assert bal(project_account(self.pid, "spend")) == (n_accepted - n_rework) * (rate + fee_amount)
            assert bal(project_account(self.pid, "committed")) == pending * rate
            assert bal(REWORK_SPEND) - self.rework_base[REWORK_SPEND] == n_rework * rate
            assert bal(REWORK_COMMITTED) - self.rework_base[REWORK_COMMITTED] == rework_pending * rate
            for e in self.experts:
                assert -bal(expert_account(e, "payable")) == accepted_by_expert[e] * rate, "paid exactly for accepted"
                assert -bal(expert_account(e, "pending")) == pending_by_expert[e] * rate
            assert -bal(FEES) >= (n_accepted - n_rework) * fee_amount

    async def _scalar(fn):
        async with harness.pool.acquire() as conn:
            return await fn(conn)

    async def _balance(name: str) -> int:
        async with harness.pool.acquire() as conn:
            return await ledger.balance(conn, name, "EUR")

    Earnings.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    Earnings.TestCase().runTest()
