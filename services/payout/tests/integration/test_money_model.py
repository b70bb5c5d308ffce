"""A stateful test of the money's whole path: submissions and verdicts (duplicated, out of order,
in batches), reviews (some redelivered), a bonus period (closed twice), payout runs (some crashed
mid-way and resumed), settlements and failures (some repeated). After every step: every
transaction balances, balances derive from entries, no liability balance turns into a debit, each
expert's pending + payable + in transit + paid is exactly what they earned, each accepted
submission is credited once and each rejected one never, what was paid is exactly what was
settled, and nobody is paid twice in a run."""

from __future__ import annotations

import datetime as dt
import random
import string
import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from cohort_payout.app import bonuses as bonus_app
from cohort_payout.app import earnings
from cohort_payout.app import runs as run_app
from cohort_payout.config import PayoutSettings
from cohort_payout.db import ledger
from cohort_payout.db import runs as runs_repo
from cohort_payout.domain.bonuses import BonusRule
from cohort_payout.domain.earnings import RateCard
from cohort_payout.domain.ledger import expert_account
from cohort_payout.domain.runs import RunRequest
from cohort_runtime.domain_errors import StateConflict
from cohort_runtime.testing import SyncDatabase

F = earnings.FactKind


@pytest.fixture(scope="module")
def harness(database_url):
    db = SyncDatabase(
        database_url,
        f"t_money_{uuid.uuid4().hex[:10]}",
        "payout",
        PayoutSettings.model_fields["migrations_dir"].default,
    )
    yield db
    db.close()


def test_money_flow_matches_its_model(harness):
    class Money(RuleBasedStateMachine):
        subs = Bundle("subs")
        reviews = Bundle("reviews")

        @initialize(rate=st.integers(1, 3000), review_rate=st.integers(0, 500), fee_bps=st.sampled_from([0, 2000]))
        def project(self, rate: int, review_rate: int, fee_bps: int) -> None:
            # A currency of its own: runs pay every expert of a currency, so examples stay apart.
            self.currency = "".join(random.choices(string.ascii_uppercase, k=3))
            self.pid = uuid.uuid4()
            self.card = RateCard(self.pid, self.currency, rate, None, 0, review_rate, 10**12, fee_bps)
            tag = uuid.uuid4().hex[:8]
            self.tag = tag
            self.experts = [f"exp_m{i}{tag}" for i in range(3)]
            self.reviewer = f"exp_r{tag}"
            self.owner: dict[uuid.UUID, str] = {}
            self.verdict: dict[uuid.UUID, bool] = {}
            self.review_ids: set[uuid.UUID] = set()
            self.bonus_total: dict[str, int] | None = None
            self.bonus_rule: BonusRule | None = None
            self.runs: list[uuid.UUID] = []
            harness.run(harness.pool.execute("SELECT 1"))
            harness.transaction(earnings.project_activated, self.card)

        def teardown(self) -> None:
            harness.run(run_app.resume_running(harness.pool))  # leave no run of this currency unfinished

        @rule(target=subs, which=st.integers(0, 2))
        def submitted(self, which: int) -> uuid.UUID:
            sub = uuid.uuid4()
            self.owner[sub] = self.experts[which]
            harness.transaction(earnings.facts_received, [earnings.Fact(F.CREATED, sub, self.pid, self.owner[sub], 0)])
            return sub

        @rule(sub=subs, accepted=st.booleans(), created_again=st.booleans())
        def decided(self, sub: uuid.UUID, accepted: bool, created_again: bool) -> None:
            """A verdict, possibly a redelivery, possibly in a batch with a redelivered creation."""
            facts = [earnings.Fact(F.ACCEPTED if accepted else F.REJECTED, sub, self.pid)]
            if created_again:
                facts.insert(0, earnings.Fact(F.CREATED, sub, self.pid, self.owner[sub], 0))
            harness.transaction(earnings.facts_received, facts)
            self.verdict.setdefault(sub, accepted)

        @rule(target=reviews)
        def reviewed(self) -> uuid.UUID:
            review = uuid.uuid4()
            harness.transaction(earnings.review_completed, review, self.pid, self.reviewer)
            self.review_ids.add(review)
            return review

        @rule(review=reviews)
        def review_redelivered(self, review: uuid.UUID) -> None:
            harness.transaction(earnings.review_completed, review, self.pid, self.reviewer)

        @rule()
        def bonus_period_closed(self) -> None:
            now = dt.datetime.now(dt.UTC)
            if self.bonus_rule is None:
                # Time passes (once): everything decided so far falls in a period that ended an hour
                # ago; what is decided from now on is later than the period.
                harness.run(
                    harness.pool.execute(
                        "UPDATE submissions SET decided_at = $2 WHERE project_id = $1 AND decided_at IS NOT NULL",
                        self.pid,
                        now - dt.timedelta(hours=2),
                    )
                )
                self.bonus_rule = BonusRule(
                    f"p{self.pid.hex[:12]}", now - dt.timedelta(days=1), now - dt.timedelta(hours=1), self.currency,
                    1000, 0.34, 1,
                )  # fmt: skip
            awarded = harness.run(bonus_app.close_period(harness.pool, self.bonus_rule))
            mine = {a.expert_id: a.amount for a in awarded if a.project_id == self.pid}
            if self.bonus_total is None:
                self.bonus_total = mine
            assert mine == self.bonus_total, "closing the period again changes nothing"

        @rule(crash=st.booleans())
        def payout_run(self, crash: bool) -> None:
            if crash:
                # The process dies after the first expert of a new run was paid.
                async def start() -> uuid.UUID:
                    async with harness.pool.acquire() as conn, conn.transaction():
                        latest = await runs_repo.latest(conn, self.currency)
                        if latest is not None and latest.state == "running":
                            return latest.run_id
                        run = runs_repo.Run(
                            uuid.uuid4(), uuid.uuid4(), self.currency, dt.datetime.now(dt.UTC), 1, "running", None
                        )
                        await runs_repo.insert(conn, run, dt.datetime.now(dt.UTC))
                        await runs_repo.select_candidates(conn, run)
                        return run.run_id

                run_id = harness.run(start())
                harness.run(run_app.execute(harness.pool, run_id, max_batches=1, batch=1))
            else:
                harness.run(run_app.resume_running(harness.pool))
                run = harness.run(run_app.create_run(harness.pool, RunRequest(uuid.uuid4(), self.currency, None, 1)))
                run_id = run.run_id
            if run_id not in self.runs:
                self.runs.append(run_id)

        @rule()
        def resumed(self) -> None:
            harness.run(run_app.resume_running(harness.pool))

        @rule(ok=st.booleans(), twice=st.booleans(), pick=st.integers(0, 50))
        def settled(self, ok: bool, twice: bool, pick: int) -> None:
            rows = harness.run(
                harness.pool.fetch(
                    """SELECT run_id, expert_id FROM payouts WHERE state = 'in_transit' AND run_id = ANY($1::uuid[])
                       ORDER BY run_id, expert_id""",
                    self.runs,
                )
            )
            if not rows:
                return
            row = rows[pick % len(rows)]
            harness.run(run_app.settle(harness.pool, row["run_id"], row["expert_id"], ok, "" if ok else "bank said no"))
            if twice:
                with pytest.raises(StateConflict):
                    harness.run(run_app.settle(harness.pool, row["run_id"], row["expert_id"], ok))

        @invariant()
        def money_is_exact(self) -> None:
            if not hasattr(self, "pid"):
                return
            # Scoped to this example's accounts: the schema holds every example before it.
            mine = [f"%{self.tag}%", f"%{self.pid}%"]
            unbalanced = harness.run(
                harness.pool.fetchval(
                    """SELECT count(*) FROM (
                         SELECT e.transaction_id FROM entries e JOIN accounts a USING (account_id)
                         WHERE e.transaction_id IN (SELECT e2.transaction_id FROM entries e2
                                                    JOIN accounts a2 USING (account_id) WHERE a2.name LIKE ANY($1))
                         GROUP BY e.transaction_id, a.currency HAVING sum(e.amount) <> 0) bad""",
                    mine,
                )
            )
            assert unbalanced == 0, "every transaction balances"
            drifted = harness.run(
                harness.pool.fetchval(
                    """SELECT count(*) FROM accounts a WHERE a.name LIKE ANY($1) AND a.balance <>
                         coalesce((SELECT sum(amount) FROM entries e WHERE e.account_id = a.account_id), 0)""",
                    mine,
                )
            )
            assert drifted == 0, "balances derive from entries"
            rows = harness.run(
                harness.pool.fetch("SELECT submission_id, state FROM submissions WHERE project_id = $1", self.pid)
            )
            state = {r["submission_id"]: r["state"] for r in rows}
            kinds = harness.run(
                harness.pool.fetch(
                    "SELECT idempotency_key, kind FROM transactions WHERE idempotency_key = ANY($1::text[])",
                    [f"decided:{s}" for s in state],
                )
            )
            credited = {k["idempotency_key"].split(":", 1)[1] for k in kinds if k["kind"] == "earning_accepted"}
            for sub, s in state.items():
                assert (str(sub) in credited) == (s == "accepted"), "credited exactly when accepted"
                if sub in self.verdict:
                    assert s == ("accepted" if self.verdict[sub] else "rejected"), "the first verdict wins"
            rate, review_rate = self.card.per_submission or 0, self.card.review_rate
            for e in [*self.experts, self.reviewer]:
                pending, payable, transit, paid = (
                    harness.run(_balance(expert_account(e, b), self.currency))
                    for b in ("pending", "payable", "in_transit", "paid")
                )
                assert max(pending, payable, transit, paid) <= 0, f"{e}: a liability never turns into a debit"
                accepted = sum(1 for s, who in self.owner.items() if who == e and state.get(s) == "accepted")
                pend = sum(1 for s, who in self.owner.items() if who == e and state.get(s) == "pending")
                earned = accepted * rate + (self.bonus_total or {}).get(e, 0)
                if e == self.reviewer:
                    earned += len(self.review_ids) * review_rate
                assert -pending == pend * rate
                assert -(payable + transit + paid) == earned, f"{e}: owed exactly what was earned"
                payouts = harness.run(
                    harness.pool.fetch(
                        "SELECT run_id, amount, state FROM payouts WHERE expert_id = $1 AND run_id = ANY($2::uuid[])",
                        e,
                        self.runs,
                    )
                )
                assert len({p["run_id"] for p in payouts}) == len(payouts), "nobody is paid twice in a run"
                assert -paid == sum(p["amount"] for p in payouts if p["state"] == "settled"), "paid = settled"
                assert -transit == sum(p["amount"] for p in payouts if p["state"] == "in_transit")

    async def _call(fn):
        async with harness.pool.acquire() as conn:
            return await fn(conn)

    async def _balance(name: str, currency: str) -> int:
        async with harness.pool.acquire() as conn:
            return await ledger.balance(conn, name, currency)

    Money.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    Money.TestCase().runTest()
