"""Load a year of finished work into the local stack, so that `make bench-history` can measure a
full cycle's cost on a platform with a long history (issue: "a platform that does not slow down as
its history grows").

The history is cloned from the latest project on the stack (which `make bench-history`'s first,
fresh run creates): its project rows in every service, and one of its finished cycles as the
template of every cycle loaded. Each loaded cycle is what a real one leaves behind in every
schema: tasking's task, slot, lease, held task, submission and per-expert count; QA's task,
accepted submission and item; intake's task, item and counters; payout's submission, its two
postings (pending, then accepted with the fee) and their entries on the expert's, the project's
and the platform's accounts (balances kept equal to the entries); and every consumer's inbox row
for the events it handled. Projects are completed in every service, spread over the past year
(the ledger's post times too), their cycles shared among `--experts` experts.

Not loaded: the outbox (the relay deletes published rows after 7 days, so a year of history
leaves no more of it than a fresh run does) and per-expert figures QA keeps (one row per expert,
not per cycle).

Run against the local stack's database (COHORT_DATABASE_URL); prints rows loaded and seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid

import asyncpg

YEAR = dt.timedelta(days=365)


async def template(conn: asyncpg.Connection) -> dict[str, object]:
    """The latest project and one of its finished, paid cycles."""
    pid = await conn.fetchval("SELECT project_id FROM intake.projects ORDER BY create_time DESC LIMIT 1")
    if pid is None:
        raise SystemExit("no project on the stack to take the history's shape from: run the platform benchmark first")
    row = await conn.fetchrow(
        """SELECT s.submission_id, s.task_id, s.payload, t.input AS tasking_input, q.top_choice, q.scores,
                  q.signature, q.shown_order, qt.input AS qa_input, i.record_json, it.input AS intake_input,
                  qi.agreement, qi.confidence, ps.amount
           FROM tasking.submissions s
           JOIN tasking.tasks t USING (project_id, task_id)
           JOIN qa.submissions q ON q.submission_id = s.submission_id AND q.state = 'accepted'
           JOIN qa.tasks qt ON qt.project_id = s.project_id AND qt.task_id = s.task_id
           JOIN qa.items qi ON qi.project_id = s.project_id AND qi.task_id = s.task_id
           JOIN intake.items i ON i.item_id = qi.item_id
           JOIN intake.tasks it ON it.project_id = s.project_id AND it.task_id = s.task_id
           JOIN payout.submissions ps ON ps.submission_id = s.submission_id AND ps.state = 'accepted'
           WHERE s.project_id = $1 LIMIT 1""",
        pid,
    )
    if row is None:
        raise SystemExit(f"project {pid} has no finished, paid cycle to clone")
    fee_bps = await conn.fetchval("SELECT fee_bps FROM payout.rate_cards WHERE project_id = $1", pid)
    currency = await conn.fetchval("SELECT currency FROM payout.rate_cards WHERE project_id = $1", pid)
    return {"project_id": pid, "fee_bps": fee_bps, "currency": currency.strip(), **dict(row)}


async def load_project(
    conn: asyncpg.Connection,
    tpl: dict[str, object],
    k: int,
    cycles: int,
    experts: int,
    start: dt.datetime,
    span: dt.timedelta,
) -> None:
    """Project k of the history: `cycles` finished cycles from `start` over `span`."""
    pid = uuid.uuid4()
    tp = tpl["project_id"]
    span_s = span.total_seconds()
    amount = int(tpl["amount"])  # type: ignore[call-overload]
    fee = (amount * int(tpl["fee_bps"]) + 5_000) // 10_000  # type: ignore[call-overload]
    cur = tpl["currency"]
    # One row per cycle: its task, expert, ids and time, reused by every table below.
    await conn.execute(
        """CREATE TEMP TABLE c ON COMMIT DROP AS
           SELECT g, 'h' || g AS task_id,
                  'exp_hist' || lpad(((($2::bigint * $1) + g) % $3)::text, 6, '0') AS expert_id,
                  gen_random_uuid() AS submission_id, gen_random_uuid() AS assignment_id,
                  gen_random_uuid() AS item_id,
                  $4::timestamptz + make_interval(secs => $5::float8 * g / $1) AS at
           FROM generate_series(1, $1) AS g""",
        cycles, k, experts, start, span_s,
    )  # fmt: skip
    # tasking
    await conn.execute(
        """INSERT INTO tasking.projects (project_id, lab_id, state, activated, update_time)
           SELECT $1, lab_id, 'completed', activated, $3 FROM tasking.projects WHERE project_id = $2""",
        pid, tp, start,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO tasking.tasks (project_id, task_id, input, is_gold, finalized, slotted)
           SELECT $1, task_id, $2, false, true, true FROM c""",
        pid, tpl["tasking_input"],
    )  # fmt: skip
    await conn.execute(
        """WITH s AS (
               INSERT INTO tasking.slots (project_id, task_id, is_gold, open, started)
               SELECT $1, task_id, false, false, true FROM c RETURNING slot_id, task_id
           )
           INSERT INTO tasking.assignments (assignment_id, slot_id, expert_id, project_id, task_id, state,
                                            acquire_time, expire_time, last_beat, active_seconds)
           SELECT c.assignment_id, s.slot_id, c.expert_id, $1, c.task_id, 'submitted',
                  c.at - interval '40 seconds', c.at + interval '10 minutes', c.at - interval '10 seconds', 40
           FROM c JOIN s USING (task_id)""",
        pid,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO tasking.expert_tasks (expert_id, project_id, task_id) SELECT expert_id, $1, task_id FROM c", pid
    )
    await conn.execute(
        """INSERT INTO tasking.submissions (submission_id, assignment_id, expert_id, project_id, task_id, payload,
                                            submit_time, active_seconds)
           SELECT submission_id, assignment_id, expert_id, $1, task_id, $2, at, 40 FROM c""",
        pid, tpl["payload"],
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO tasking.expert_project_counts (expert_id, project_id, submissions)
           SELECT expert_id, $1, count(*) FROM c GROUP BY expert_id""",
        pid,
    )
    # qa
    await conn.execute(
        """INSERT INTO qa.projects
           SELECT (jsonb_populate_record(p, jsonb_build_object('project_id', $1::text))).* FROM qa.projects p
           WHERE p.project_id = $2""",
        str(pid), tp,
    )  # fmt: skip
    await conn.execute("UPDATE qa.projects SET state = 'completed', updated_at = $2 WHERE project_id = $1", pid, start)
    await conn.execute(
        """INSERT INTO qa.tasks (project_id, task_id, input, is_gold, finalized_at)
           SELECT $1, task_id, $2, false, at FROM c""",
        pid, tpl["qa_input"],
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO qa.submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                       submit_time, state, top_choice, scores, signature, received_at, decided_at,
                                       shown_order)
           SELECT submission_id, $1, task_id, expert_id, $2, false, 40, at, 'accepted', $3, $4, $5, at, at, $6
           FROM c""",
        pid, tpl["payload"], tpl["top_choice"], tpl["scores"], tpl["signature"], tpl["shown_order"],
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO qa.items (item_id, project_id, task_id, agreement, confidence, finalized_at)
           SELECT item_id, $1, task_id, $2, $3, at FROM c""",
        pid, tpl["agreement"], tpl["confidence"],
    )  # fmt: skip
    # intake
    await conn.execute(
        """INSERT INTO intake.projects (project_id, lab_id, state, spec, instructions_version, rubric_version,
                                        create_time, update_time, request_id, request_fingerprint)
           SELECT $1, lab_id, 'completed', spec, instructions_version, rubric_version, $3, $3, gen_random_uuid(),
                  request_fingerprint
           FROM intake.projects WHERE project_id = $2""",
        pid, tp, start,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO intake.progress (project_id, tasks_total, tasks_with_submission, submissions_received,
                                        submissions_accepted, items_delivered, agreement_sum, confidence_sum,
                                        spent_minor, update_time)
           VALUES ($1, $2::bigint, $2, $2, $2, $2, $2 * $3::float8, $2 * $4::float8, $2 * $5::bigint, $6)""",
        pid, cycles, tpl["agreement"], tpl["confidence"], amount + fee, start,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO intake.tasks (project_id, task_id, input, content_hash, create_time, has_submission)
           SELECT $1, task_id, $2, md5($4 || task_id), $3, true FROM c ORDER BY g""",
        pid, tpl["intake_input"], start, str(pid),
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO intake.items (item_id, project_id, task_id, record_json, deliver_time)
           SELECT item_id, $1, task_id, $2, at FROM c ORDER BY g""",
        pid, tpl["record_json"],
    )  # fmt: skip
    # payout: the submission, its two postings and their entries
    await conn.execute(
        """INSERT INTO payout.rate_cards
           SELECT (jsonb_populate_record(r, jsonb_build_object('project_id', $1::text))).* FROM payout.rate_cards r
           WHERE r.project_id = $2""",
        str(pid), tp,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO payout.submissions (submission_id, project_id, expert_id, amount, active_secs, created, verdict,
                                           state, decided_at)
           SELECT submission_id, $1, expert_id, $2, 40, true, 'accepted', 'accepted', at FROM c""",
        pid, amount,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO payout.accounts (name, currency)
           SELECT 'project:' || $1::text || ':' || b, $2 FROM unnest(ARRAY['committed', 'spend']) AS b
           ON CONFLICT DO NOTHING""",
        str(pid), cur,
    )  # fmt: skip
    await conn.execute(
        """WITH t AS (
               INSERT INTO payout.transactions (idempotency_key, kind, post_time)
               SELECT k.prefix || c.submission_id, k.kind, c.at + k.delay
               FROM c CROSS JOIN (VALUES ('pending:', 'earning_pending', interval '0'),
                                         ('decided:', 'earning_accepted', interval '1 second'))
                                  AS k(prefix, kind, delay)
               RETURNING transaction_id, idempotency_key, kind
           ), e AS (
               SELECT t.transaction_id, x.name, x.amount
               FROM t JOIN c ON c.submission_id::text = split_part(t.idempotency_key, ':', 2)
               CROSS JOIN LATERAL (VALUES
                   (t.kind = 'earning_pending', 'project:' || $1::text || ':committed', $2::bigint),
                   (t.kind = 'earning_pending', 'expert:' || c.expert_id || ':pending', -$2::bigint),
                   (t.kind = 'earning_accepted', 'expert:' || c.expert_id || ':pending', $2::bigint),
                   (t.kind = 'earning_accepted', 'project:' || $1::text || ':committed', -$2::bigint),
                   (t.kind = 'earning_accepted', 'project:' || $1::text || ':spend', $2::bigint + $3),
                   (t.kind = 'earning_accepted', 'expert:' || c.expert_id || ':payable', -$2::bigint),
                   (t.kind = 'earning_accepted' AND $3 > 0, 'platform:fees', -$3::bigint)
               ) AS x(applies, name, amount)
               WHERE x.applies
           )
           INSERT INTO payout.entries (transaction_id, account_id, amount)
           SELECT e.transaction_id, a.account_id, e.amount FROM e
           JOIN payout.accounts a ON a.name = e.name AND a.currency = $4""",
        str(pid), amount, fee, cur,
    )  # fmt: skip
    await conn.execute(
        """UPDATE payout.accounts a SET balance = a.balance + d.delta
           FROM (SELECT 'expert:' || expert_id || ':payable' AS name, -count(*) * $2::bigint AS delta
                 FROM c GROUP BY expert_id
                 UNION ALL SELECT 'project:' || $1::text || ':spend', count(*) * ($2::bigint + $3) FROM c
                 UNION ALL SELECT 'platform:fees', -count(*) * $3::bigint FROM c) d
           WHERE a.name = d.name AND a.currency = $4""",
        str(pid), amount, fee, cur,
    )  # fmt: skip
    # every consumer's inbox: the events each handled for these cycles
    for schema, handled in INBOX.items():
        for event_type, topic in handled:
            await conn.execute(
                f"""INSERT INTO {schema}.inbox (consumer, event_id, event_type, topic, partition, "offset", outcome,
                                                received_at)
                    SELECT '{schema}.events', gen_random_uuid()::text, $1, $2, g % 12, g, 'processed', at FROM c""",  # noqa: S608 - constants
                event_type, topic,
            )  # fmt: skip


INBOX = {
    "tasking": [("cohort.events.v1.ItemFinalized", "cohort.qa.items.v1")],
    "qa": [("cohort.events.v1.SubmissionCreated", "cohort.tasking.submissions.v1")],
    "intake": [
        ("cohort.events.v1.SubmissionCreated", "cohort.tasking.submissions.v1"),
        ("cohort.events.v1.SubmissionAccepted", "cohort.qa.verdicts.v1"),
        ("cohort.events.v1.ItemFinalized", "cohort.qa.items.v1"),
    ],
    "payout": [
        ("cohort.events.v1.SubmissionCreated", "cohort.tasking.submissions.v1"),
        ("cohort.events.v1.SubmissionAccepted", "cohort.qa.verdicts.v1"),
    ],
}


async def main() -> None:
    conn = await asyncpg.connect(os.environ["COHORT_DATABASE_URL"])
    try:
        tpl = await template(conn)
        cur = tpl["currency"]
        # The history's experts (registered like the template's first expert), and their ledger accounts.
        await conn.execute(
            """INSERT INTO tasking.experts
               SELECT (jsonb_populate_record(
                   NULL::tasking.experts,
                   to_jsonb(x) || jsonb_build_object('expert_id', 'exp_hist' || lpad(e::text, 6, '0'))
               )).*
               FROM generate_series(0, $1 - 1) AS e
               CROSS JOIN LATERAL (SELECT * FROM tasking.experts ORDER BY expert_id LIMIT 1) x
               ON CONFLICT DO NOTHING""",
            args.experts,
        )
        # The experts' ledger accounts, once.
        await conn.execute(
            """INSERT INTO payout.accounts (name, currency)
               SELECT 'expert:exp_hist' || lpad(e::text, 6, '0') || ':' || b, $2
               FROM generate_series(0, $1 - 1) AS e CROSS JOIN unnest(ARRAY['pending', 'payable']) AS b
               ON CONFLICT DO NOTHING""",
            args.experts, cur,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO payout.accounts (name, currency) VALUES ('platform:fees', $1) ON CONFLICT DO NOTHING", cur
        )
        per_project = args.cycles // args.projects
        begin = dt.datetime.now(dt.UTC) - YEAR - dt.timedelta(days=1)
        started = time.monotonic()
        for k in range(args.projects):
            async with conn.transaction():
                await load_project(
                    conn, tpl, k, per_project, args.experts, begin + YEAR / args.projects * k, YEAR / args.projects
                )
            if k % 10 == 9:
                print(f"  {k + 1}/{args.projects} projects, {time.monotonic() - started:.0f} s", flush=True)
        loaded = time.monotonic() - started
        for schema in ("tasking", "qa", "intake", "payout"):
            await conn.execute(f"VACUUM (ANALYZE) {schema}.inbox")
        await conn.execute("ANALYZE")
        print(
            f"history: {per_project * args.projects:,} cycles in {args.projects} completed projects, "
            f"{args.experts:,} experts, a year of ledger; loaded in {loaded:.0f} s "
            f"(+ {time.monotonic() - started - loaded:.0f} s vacuum/analyze)"
        )
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--experts", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main())
