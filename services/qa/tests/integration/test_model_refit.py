"""The per-project Dawid-Skene refit over judgments QA accepted, on a real PostgreSQL."""

from __future__ import annotations

import json
import uuid

import numpy as np
from prometheus_client import CollectorRegistry

from cohort_qa.app.models import REFIT_EVERY, REST_FACTOR, refit
from cohort_qa.db import models as repo
from cohort_qa.metrics import QaMetrics

from .conftest import pref


async def test_a_refit_learns_each_experts_confusion_from_the_judged_tasks(qa) -> None:
    # Far more tasks than have judgments, as in a project early in its run.
    pid = await qa.project("preference", tasks=40, overlap=3)
    ids = []
    for i in range(8):
        ids.append(await qa.submit(pid, f"t{i}", "steady-1", pref("a", "b")))
        ids.append(await qa.submit(pid, f"t{i}", "steady-2", pref("a", "b")))
        ids.append(await qa.submit(pid, f"t{i}", "contrary", pref("b", "a")))
    for sid in ids:
        assert await qa.state(sid, "accepted", "rejected") == "accepted"

    used = await refit(qa.pool, uuid.UUID(pid), QaMetrics(CollectorRegistry()))

    assert used == 24
    async with qa.pool.acquire() as conn:
        priors, confusion = await repo.get(conn, uuid.UUID(pid), ["contrary", "steady-1", "steady-2"])
    assert priors is not None and priors.shape == (2,) and abs(priors.sum() - 1) < 1e-9
    assert sorted(confusion) == ["contrary", "steady-1", "steady-2"]
    for matrix in confusion.values():
        assert matrix.shape == (2, 2) and np.allclose(matrix.sum(axis=1), 1)
    # The majority says the first candidate is better: the steady pair agree with it on the diagonal,
    # the contrary expert's mass sits off it.
    assert np.trace(confusion["steady-1"]) > 1.5 and np.trace(confusion["steady-2"]) > 1.5
    assert np.trace(confusion["contrary"]) < 0.5


async def test_a_refit_of_a_project_without_judgments_saves_nothing(qa) -> None:
    pid = await qa.project("preference", tasks=5, overlap=1)
    assert await refit(qa.pool, uuid.UUID(pid), QaMetrics(CollectorRegistry())) == 0
    assert await qa.pool.fetchval("SELECT count(*) FROM project_models WHERE project_id = $1", uuid.UUID(pid)) == 0


async def test_a_refit_flags_a_pair_who_agree_beyond_their_skill(qa) -> None:
    """Ten honest experts right 85 % of the time and two who toss one coin together, on 60 tasks;
    the refit flags that pair alone, records it and suspends both in the project."""
    pid = uuid.UUID(await qa.project("preference", tasks=60, overlap=3))
    rng = np.random.default_rng(11)
    rows = []
    for i in range(60):
        truth = "a" if i % 2 else "b"
        coin = "a" if rng.random() < 0.5 else "b"
        for e in range(10):
            right = rng.random() < 0.85
            rows.append((f"t{i}", f"honest-{e}", truth if right else ("b" if truth == "a" else "a")))
        rows += [(f"t{i}", "pair-1", coin), (f"t{i}", "pair-2", coin)]
    await qa.pool.executemany(
        """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                    submit_time, state, top_choice)
           VALUES ($1, $2, $3, $4, '', false, 60, now(), 'accepted', $5)""",
        [(uuid.uuid4(), pid, task, expert, choice) for task, expert, choice in rows],
    )

    await refit(qa.pool, pid, QaMetrics(CollectorRegistry()))

    flags = await qa.pool.fetch(
        "SELECT expert_a, expert_b, shared, agreed FROM collusion_flags WHERE project_id = $1", pid
    )
    assert [(f["expert_a"], f["expert_b"], f["shared"], f["agreed"]) for f in flags] == [("pair-1", "pair-2", 60, 60)]
    suspended = await qa.pool.fetch(
        "SELECT expert_id, reasons FROM project_suspensions WHERE project_id = $1 ORDER BY expert_id", pid
    )
    assert [(s["expert_id"], s["reasons"]) for s in suspended] == [
        ("pair-1", ["collusion_suspected"]),
        ("pair-2", ["collusion_suspected"]),
    ]
    announced = await qa.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'cohort.events.v1.ExpertQualityUpdated' AND key = ANY($1)",
        [b"pair-1", b"pair-2"],
    )
    assert announced == 2, "tasking hears of both suspensions and stops routing the project to them"


async def test_the_collusion_test_counts_a_pairs_rejected_answers_too(qa) -> None:
    """A coin-tossing pair is wrong half the time, and reviews reject that half: on accepted
    answers alone the pair shares ~10 of its 20 tasks, too few to be tested (12); counted with the
    rejected ones it shares all 20 and agrees on all 20."""
    pid = uuid.UUID(await qa.project("preference", tasks=60, overlap=3))
    rng = np.random.default_rng(5)
    truth = {f"t{i}": "a" if i % 2 else "b" for i in range(60)}
    rows = []
    for task, right in truth.items():
        wrong = "b" if right == "a" else "a"
        rows += [(task, f"honest-{e}", right if rng.random() < 0.85 else wrong) for e in range(10)]
    for i in range(60):
        coin = "a" if rng.random() < 0.5 else "b"
        pair = ["pair-1", "pair-2"] if i < 20 else ["pair-1"] if i < 40 else ["pair-2"]
        rows += [(f"t{i}", expert, coin) for expert in pair]
    await qa.pool.executemany(
        """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                    submit_time, state, top_choice)
           VALUES ($1, $2, $3, $4, '', false, 60, now(), $5, $6)""",
        [
            (uuid.uuid4(), pid, task, expert, "accepted" if choice == truth[task] or "honest" in expert else "rejected",
             choice)
            for task, expert, choice in rows
        ],
    )  # fmt: skip
    both_accepted = await qa.pool.fetchval(
        """SELECT count(*) FROM submissions a JOIN submissions b USING (project_id, task_id)
           WHERE a.expert_id = 'pair-1' AND b.expert_id = 'pair-2' AND a.state = 'accepted' AND b.state = 'accepted'"""
    )
    assert both_accepted < 12, "the premise: on accepted answers alone the pair would not be tested"

    await refit(qa.pool, pid, QaMetrics(CollectorRegistry()))

    flags = await qa.pool.fetch(
        "SELECT expert_a, expert_b, shared, agreed FROM collusion_flags WHERE project_id = $1", pid
    )
    assert [(f["expert_a"], f["expert_b"], f["shared"], f["agreed"]) for f in flags] == [("pair-1", "pair-2", 20, 20)]


async def test_a_rubric_pair_who_grade_alike_is_flagged_by_the_background_pass(qa) -> None:
    """Eight honest graders vary around each item's truth; two give one shared grade on the 14
    items they both grade. The pass finds the project stale, flags the pair alone, suspends both
    and does not test the project again until 50 more answers are in."""
    from cohort_qa.app import collusion
    from cohort_qa.db import collusion as collusion_repo

    from .conftest import grade

    pid = uuid.UUID(await qa.project("rubric_grade", tasks=40, overlap=3))
    rng = np.random.default_rng(8)
    rows = []
    for i in range(40):
        truth = rng.integers(1, 6, size=2)
        for e in rng.choice(8, size=3, replace=False):
            a, c = np.clip(np.rint(truth + rng.normal(0, 0.6, size=2)), 1, 5)
            rows.append((f"t{i}", f"honest-{e}", grade(accuracy=int(a), clarity=int(c))))
        if i < 14:
            a, c = rng.integers(1, 6, size=2)
            rows += [(f"t{i}", p, grade(accuracy=int(a), clarity=int(c))) for p in ("pair-1", "pair-2")]
    await qa.pool.executemany(
        """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                    submit_time, state, scores)
           VALUES ($1, $2, $3, $4, $5, false, 60, now(), 'accepted', $6::jsonb)""",
        [
            (uuid.uuid4(), pid, task, expert, payload.SerializeToString(),
             json.dumps(dict(payload.rubric_grade.scores)))
            for task, expert, payload in rows
        ],
    )  # fmt: skip
    async with qa.pool.acquire() as conn:
        assert pid in await collusion_repo.stale_rubric_projects(conn, 50)

    found = await collusion.check_rubric(qa.pool, pid)

    assert [(s.experts, s.shared, s.agreed) for s in found] == [(("pair-1", "pair-2"), 14, 14)]
    suspended = await qa.pool.fetch(
        "SELECT expert_id, reasons FROM project_suspensions WHERE project_id = $1 ORDER BY expert_id", pid
    )
    assert [(s["expert_id"], s["reasons"]) for s in suspended] == [
        ("pair-1", ["collusion_suspected"]),
        ("pair-2", ["collusion_suspected"]),
    ]
    async with qa.pool.acquire() as conn:
        assert pid not in await collusion_repo.stale_rubric_projects(conn, 50), "checked on these answers"


async def test_a_refit_reads_stored_candidates_and_rests_in_proportion_to_its_cost(qa) -> None:
    """Candidate ids are stored at ingestion (a refit reads them instead of every judged input); a
    project that has just been refitted waits REST_FACTOR times the refit's duration before the
    next, however many judgments arrive meanwhile."""
    pid = uuid.UUID(await qa.project("preference", tasks=60, overlap=1))
    stored = await qa.pool.fetch("SELECT DISTINCT candidate_ids FROM tasks WHERE project_id = $1", pid)
    assert [r["candidate_ids"] for r in stored] == [["a", "b"]]
    await qa.pool.executemany(
        """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                    submit_time, state, top_choice)
           VALUES ($1, $2, $3, $4, '', false, 60, now(), 'accepted', 'a')""",
        [(uuid.uuid4(), pid, f"t{i}", f"e{i % 4}") for i in range(55)],
    )

    async def stale() -> list[uuid.UUID]:
        async with qa.pool.acquire() as conn:
            return [p for p in await repo.stale_projects(conn, REFIT_EVERY, REST_FACTOR) if p == pid]

    assert await stale() == [pid]
    assert await refit(qa.pool, pid, QaMetrics(CollectorRegistry())) == 0, "each task judged once: nothing to fit"
    noted = await qa.pool.fetchrow("SELECT judgments, fit_seconds FROM project_models WHERE project_id = $1", pid)
    assert noted["judgments"] == 55 and noted["fit_seconds"] > 0, "noted, so the project rests like a fitted one"
    assert await qa.pool.fetchval("SELECT count(*) FROM expert_confusion WHERE project_id = $1", pid) == 0
    await qa.pool.executemany(
        """INSERT INTO submissions (submission_id, project_id, task_id, expert_id, payload, is_gold, active_seconds,
                                    submit_time, state, top_choice)
           VALUES ($1, $2, $3, $4, '', false, 60, now(), 'accepted', 'b')""",
        [(uuid.uuid4(), pid, f"t{i % 60}", f"f{i % 4}") for i in range(60)],
    )
    # Pretend the refit took a minute: 50 more judgments are not enough while it rests.
    await qa.pool.execute("UPDATE project_models SET fit_seconds = 60 WHERE project_id = $1", pid)
    assert await stale() == []
    await qa.pool.execute(
        "UPDATE project_models SET fitted_at = now() - interval '20 minutes' WHERE project_id = $1", pid
    )
    assert await stale() == [pid], "rested 19 minutes and more"
    # t0..t54 judged twice now (110 judgments); t55..t59 once, still nothing to learn from.
    assert await refit(qa.pool, pid, QaMetrics(CollectorRegistry())) == 110
