"""Closed bonus periods and the decided work they cover."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_payout.domain.bonuses import BonusRule, ExpertPeriod


async def record_period(conn: asyncpg.Connection, rule: BonusRule, now: dt.datetime) -> BonusRule:
    """The period as first closed (this rule, or the one already recorded under its id)."""
    await conn.execute(
        """INSERT INTO bonus_periods (period_id, start_time, end_time, currency, bonus_bps, top_share, min_decided,
                                      closed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (period_id) DO NOTHING""",
        rule.period_id,
        rule.start,
        rule.end,
        rule.currency,
        rule.bonus_bps,
        rule.top_share,
        rule.min_decided,
        now,
    )
    r = await conn.fetchrow("SELECT * FROM bonus_periods WHERE period_id = $1 FOR UPDATE", rule.period_id)
    return BonusRule(
        r["period_id"],
        r["start_time"],
        r["end_time"],
        r["currency"].strip(),
        r["bonus_bps"],
        r["top_share"],
        r["min_decided"],
    )


async def period_stats(conn: asyncpg.Connection, rule: BonusRule) -> list[ExpertPeriod]:
    rows = await conn.fetch(
        """SELECT s.expert_id, s.project_id,
                  count(*) FILTER (WHERE s.state = 'accepted') AS accepted,
                  count(*) AS decided,
                  coalesce(sum(s.amount) FILTER (WHERE s.state = 'accepted'), 0)::bigint AS earned
           FROM submissions s JOIN rate_cards c USING (project_id)
           WHERE s.state IN ('accepted', 'rejected') AND s.decided_at >= $1 AND s.decided_at < $2
             AND c.currency = $3 AND s.expert_id IS NOT NULL
           GROUP BY s.expert_id, s.project_id""",
        rule.start,
        rule.end,
        rule.currency,
    )
    return [ExpertPeriod(r["expert_id"], r["project_id"], r["accepted"], r["decided"], r["earned"]) for r in rows]
