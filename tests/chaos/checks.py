"""What must hold after the faults, read from the services' own databases and from the broker.

Each check returns the list of its violations (empty when it holds), so a run reports every broken
invariant at once instead of stopping at the first."""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

SCHEMAS = ("intake", "tasking", "qa", "payout")


@dataclass
class Backlog:
    """What is still on its way: outbox rows unpublished, records unconsumed, verdicts undecided."""

    outbox: int
    lag: int
    undecided: int
    uncredited: int

    @property
    def empty(self) -> bool:
        return not (self.outbox or self.lag or self.undecided or self.uncredited)


async def backlog(conn: asyncpg.Connection, bootstrap: str, project_id: str) -> Backlog:
    outbox = 0
    for schema in SCHEMAS:
        outbox += await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
    lag = sum((await consumer_lag(bootstrap)).values())
    # Judged: decided, or waiting for a person in the review queue (a reviewer's verdict follows).
    undecided = await conn.fetchval(
        """SELECT count(*) FROM tasking.submissions s
           WHERE s.project_id = $1 AND NOT EXISTS (
             SELECT 1 FROM qa.submissions q WHERE q.submission_id = s.submission_id
               AND q.state IN ('accepted', 'rejected', 'in_review'))""",
        project_id,
    )
    uncredited = await conn.fetchval(
        """SELECT count(*) FROM qa.submissions q WHERE q.project_id = $1 AND q.state = 'accepted'
             AND NOT EXISTS (SELECT 1 FROM payout.submissions p
                             WHERE p.submission_id = q.submission_id AND p.state = 'accepted')""",
        project_id,
    )
    return Backlog(outbox, lag, undecided, uncredited)


async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Records not yet committed by each consumer group, over all its partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="chaos-checks")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="chaos-checks-offsets")
    await admin.start()
    await consumer.start()
    try:
        lags: dict[str, int] = {}
        for group, _protocol in await admin.list_consumer_groups():
            committed = await admin.list_consumer_group_offsets(group)
            if not committed:
                continue
            ends = await consumer.end_offsets(list(committed))
            lags[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if meta.offset >= 0)
        return lags
    finally:
        await consumer.stop()
        await admin.close()


async def invariants(
    conn: asyncpg.Connection,
    bootstrap: str,
    project_id: str,
    acknowledged: set[str],
    live_replicas: dict[str, int],
    members: dict[str, int],
) -> list[str]:
    """Every invariant of the platform after faults; the violations found."""
    problems: list[str] = []
    problems += await _submissions(conn, project_id, acknowledged)
    problems += await _verdicts_and_credits(conn, project_id)
    problems += await _ledger(conn)
    problems += await _intake_counters(conn, project_id)
    problems += await stuck(conn)
    problems += await _consumers(bootstrap, live_replicas, members)
    return problems


async def _submissions(conn: asyncpg.Connection, project_id: str, acknowledged: set[str]) -> list[str]:
    stored = {
        str(r["submission_id"])
        for r in await conn.fetch("SELECT submission_id FROM tasking.submissions WHERE project_id = $1", project_id)
    }
    problems = []
    if lost := acknowledged - stored:
        problems.append(f"{len(lost)} acknowledged submissions are not stored (e.g. {sorted(lost)[:3]})")
    # Every submission attempt the clients made was retried until answered, with its request id:
    # a stored submission nobody was told about is one whose reply was lost and not recognised.
    if unknown := stored - acknowledged:
        problems.append(f"{len(unknown)} stored submissions were never acknowledged to their expert")
    return problems


async def _verdicts_and_credits(conn: asyncpg.Connection, project_id: str) -> list[str]:
    problems = []
    # Every stored submission was judged: decided, or sent to a person — then it is in the review
    # queue, whose verdict comes later (the chaos load has no reviewers).
    unjudged = await conn.fetchval(
        """SELECT count(*) FROM tasking.submissions s LEFT JOIN qa.submissions q USING (submission_id)
           WHERE s.project_id = $1 AND (q.state IS NULL OR q.state NOT IN ('accepted', 'rejected', 'in_review'))""",
        project_id,
    )
    if unjudged:
        problems.append(f"{unjudged} stored submissions were not judged")
    unqueued = await conn.fetchval(
        """SELECT count(*) FROM qa.submissions q WHERE q.project_id = $1 AND q.state = 'in_review'
             AND NOT EXISTS (SELECT 1 FROM qa.reviews r WHERE r.submission_id = q.submission_id AND r.slot = 0)""",
        project_id,
    )
    if unqueued:
        problems.append(f"{unqueued} submissions in review have no review queued")
    # Exactly one verdict event per submission reached payout (its inbox keeps one row per event).
    doubled = await conn.fetchval(
        """SELECT count(*) FROM (
             SELECT t.idempotency_key FROM payout.transactions t
             WHERE t.kind = 'earning_accepted' GROUP BY t.idempotency_key HAVING count(*) > 1) d"""
    )
    if doubled:
        problems.append(f"{doubled} submissions credited more than once")
    accepted = {
        r["submission_id"]
        for r in await conn.fetch(
            "SELECT submission_id FROM qa.submissions WHERE project_id = $1 AND state = 'accepted'", project_id
        )
    }
    credited = {
        r["submission_id"]
        for r in await conn.fetch(
            "SELECT submission_id FROM payout.submissions WHERE project_id = $1 AND state = 'accepted'", project_id
        )
    }
    if accepted != credited:
        problems.append(
            f"credits differ from accepted verdicts: {len(accepted - credited)} accepted not credited, "
            f"{len(credited - accepted)} credited not accepted"
        )
    earning_rows = await conn.fetchval(
        """SELECT count(*) FROM payout.transactions
           WHERE kind = 'earning_accepted' AND idempotency_key = ANY(
             SELECT 'decided:' || submission_id::text FROM payout.submissions WHERE project_id = $1)""",
        project_id,
    )
    if earning_rows != len(credited):
        problems.append(f"{earning_rows} earning postings for {len(credited)} credited submissions")
    return problems


async def _ledger(conn: asyncpg.Connection) -> list[str]:
    problems = []
    unbalanced = await conn.fetchval(
        """SELECT count(*) FROM (
             SELECT e.transaction_id, a.currency FROM payout.entries e JOIN payout.accounts a USING (account_id)
             GROUP BY e.transaction_id, a.currency HAVING sum(e.amount) <> 0) u"""
    )
    if unbalanced:
        problems.append(f"{unbalanced} ledger transactions do not balance per currency")
    drifted = await conn.fetchval(
        """SELECT count(*) FROM payout.accounts a
           WHERE a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM payout.entries e
                               WHERE e.account_id = a.account_id)"""
    )
    if drifted:
        problems.append(f"{drifted} account balances differ from the sum of their entries")
    return problems


async def _intake_counters(conn: asyncpg.Connection, project_id: str) -> list[str]:
    progress = await conn.fetchrow(
        """SELECT submissions_received, submissions_accepted, submissions_rejected
           FROM intake.progress WHERE project_id = $1""",
        project_id,
    )
    stored = await conn.fetchval("SELECT count(*) FROM tasking.submissions WHERE project_id = $1", project_id)
    decided = collections.Counter(
        {
            r["state"]: r["n"]
            for r in await conn.fetch(
                "SELECT state, count(*) AS n FROM qa.submissions WHERE project_id = $1 GROUP BY state", project_id
            )
        }
    )
    problems = []
    if progress is None:
        return ["intake has no progress row for the project"]
    if progress["submissions_received"] != stored:
        problems.append(f"intake counted {progress['submissions_received']} submissions, tasking stored {stored}")
    for state in ("accepted", "rejected"):
        if progress[f"submissions_{state}"] != decided[state]:
            problems.append(f"intake counted {progress[f'submissions_{state}']} {state}, QA decided {decided[state]}")
    return problems


async def stuck(conn: asyncpg.Connection) -> list[str]:
    problems = []
    for schema in SCHEMAS:
        unsent = await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
        parked = await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox_parked")
        if unsent or parked:
            problems.append(f"{schema}: {unsent} outbox rows unsent, {parked} parked")
    # The sweeper runs every second: a lease active 10 s past its expiry means it is not running.
    overdue = await conn.fetchval(
        """SELECT count(*) FROM tasking.assignments
           WHERE state = 'active' AND expire_time < now() - interval '10 seconds'"""
    )
    if overdue:
        problems.append(f"{overdue} leases still active past their expiry")
    running = await conn.fetchval("SELECT count(*) FROM payout.payout_runs WHERE state = 'running'")
    if running:
        problems.append(f"{running} payout runs still running")
    dead = 0
    for schema in SCHEMAS:
        dead += await conn.fetchval(f"SELECT count(*) FROM {schema}.inbox WHERE outcome = 'dead_lettered'")
    if dead:
        problems.append(f"{dead} events dead-lettered")
    return problems


async def _consumers(bootstrap: str, live_replicas: dict[str, int], members_now: dict[str, int]) -> list[str]:
    problems = []
    lags = await consumer_lag(bootstrap)
    for group, lag in sorted(lags.items()):
        if lag:
            problems.append(f"consumer group {group} has {lag} records unconsumed")
    if not members_now:
        problems.append("the broker knows no consumer groups")
    for group, members in sorted(members_now.items()):
        service = group.split(".", 1)[0]
        if service in live_replicas and members != live_replicas[service]:
            problems.append(f"consumer group {group} has {members} members, {live_replicas[service]} replicas run")
    return problems


async def payout_run_pays_once(conn: asyncpg.Connection, run_id: str, owed_before: dict[str, int]) -> list[str]:
    """The run paid each expert who was owed exactly once, exactly what was owed; nothing is left
    payable afterwards."""
    paid = {
        r["expert_id"]: r["amount"]
        for r in await conn.fetch("SELECT expert_id, amount FROM payout.payouts WHERE run_id = $1", run_id)
    }
    problems = []
    if paid != owed_before:
        wrong = {e for e in paid.keys() | owed_before.keys() if paid.get(e) != owed_before.get(e)}
        problems.append(f"payout run paid {len(wrong)} experts other than they were owed (e.g. {sorted(wrong)[:3]})")
    left = await owed(conn)
    if left:
        problems.append(f"{len(left)} experts still owed after the run")
    return problems


async def owed(conn: asyncpg.Connection) -> dict[str, int]:
    """What each expert is owed now (their payable account's credit balance)."""
    return {
        r["name"].split(":")[1]: -r["balance"]
        for r in await conn.fetch(
            "SELECT name, balance FROM payout.accounts WHERE name LIKE 'expert:%:payable' AND balance < 0"
        )
    }


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
