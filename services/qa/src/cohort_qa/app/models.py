"""Refitting each categorical project's Dawid-Skene model as judgments accumulate.

Item aggregation uses the last fit's confusion matrices (warm start); the refit itself starts from
the previous fit's matrices for known experts and from a one-coin matrix of their quality estimate
for new ones, so it converges in a few iterations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import Counter

import asyncpg
import numpy as np

from cohort_qa.app import collusion, revisit
from cohort_qa.app.progress import PRIOR_MEAN
from cohort_qa.db import collusion as collusion_repo
from cohort_qa.db import models as repo
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import reviews as reviews_repo
from cohort_qa.domain import collusion as collusion_test
from cohort_qa.domain import dawid_skene
from cohort_qa.events import payloads
from cohort_qa.metrics import QaMetrics

log = logging.getLogger(__name__)

REFIT_EVERY = 50
"""Accepted judgments a project gains before its model is refitted."""

REST_FACTOR = 19.0
"""After a refit a project rests this many times as long as the refit took: a refit reads every
judgment of its project, so refitting every pass would make each judgment's share of the work
grow with the project (a second per refit at 29k judgments, every 10 s flat out); resting in
proportion keeps refits to a twentieth of the time (and of one core) whatever the size."""

PRIOR_JUDGMENTS = 2.0
"""Weight, in judgments per true class, of what QA's quality estimate says of an expert when their
confusion matrix is fitted (see dawid_skene.fit)."""

CLASS_PRIOR_ITEMS = 10.0
"""Weight, in items per class, of the even class priors the fit starts from: a dozen early items
cannot pin the priors to one class (see dawid_skene.fit); a project's few hundred can move them."""


def _shown_orders(tasks: dict[str, tuple[tuple[str, ...] | None, bytes | None]]) -> dict[str, tuple[str, ...]]:
    """Each task's candidates in the lab's order (the classes are these positions): as stored at
    ingestion, else read from the input (tasks stored before they were)."""
    orders: dict[str, tuple[str, ...]] = {}
    for task_id, (stored, data) in tasks.items():
        candidates = stored if stored is not None else _candidates_of(data)
        if candidates:
            orders[task_id] = candidates
    return orders


def _candidates_of(data: bytes | None) -> tuple[str, ...]:
    view = payloads.task_view(data)
    return view.candidate_ids if view else ()


def _labelled(
    rows: list[asyncpg.Record], orders: dict[str, tuple[str, ...]]
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """(task, expert, label) of every answer and of the accepted ones, the label being the chosen
    candidate's position in the shown order; an answer to a task QA never saw the input of, or
    naming a candidate the task does not have, is left out."""
    every, accepted = [], []
    for r in rows:
        order = orders.get(r["task_id"])
        if order and r["top_choice"] in order:
            labelled = (r["task_id"], r["expert_id"], order.index(r["top_choice"]))
            every.append(labelled)
            if r["accepted"]:
                accepted.append(labelled)
    return every, accepted


def _shared(labelled: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The judgments of tasks judged at least twice: a task's only judgment says nothing of its
    expert's reliability (it agrees with itself), so fitting on it only costs time — in a project
    of one judgment per task, a second of CPU at 29k judgments for nothing."""
    per_task = Counter(task for task, _, _ in labelled)
    return [x for x in labelled if per_task[x[0]] >= 2]


def _encode(
    labelled: list[tuple[str, str, int]],
    task_index: dict[str, int],
    expert_index: dict[str, int],
) -> tuple[list[int], list[int], list[int]]:
    """(item, worker, label) arrays for the fit."""
    return (
        [task_index[t] for t, _, _ in labelled],
        [expert_index[e] for _, e, _ in labelled],
        [label for _, _, label in labelled],
    )


async def refit(pool: asyncpg.Pool, project_id: uuid.UUID, metrics: QaMetrics) -> int:
    """Refit one project's model; returns the number of judgments it used."""
    started = time.perf_counter()
    async with pool.acquire() as conn:
        project = await projects_repo.get(conn, project_id)
        if project is None:
            return 0
        answers = await repo.categorical_answers(conn, project_id)
        judged = sum(r["accepted"] for r in answers)
        candidates = await repo.task_candidates(conn, project_id, sorted({r["task_id"] for r in answers}))
        orders = _shown_orders(candidates)
        every_answer, accepted = _labelled(answers, orders)
        accepted = _shared(accepted)
        tasks = sorted({t for t, _, _ in accepted})
        experts = sorted({e for _, e, _ in accepted})
        priors, previous = await repo.get(conn, project_id, experts)
        estimates = await quality_repo.estimates(conn, project.domain, experts)
    expert_index = {e: i for i, e in enumerate(experts)}
    items, workers, labels = _encode(accepted, {t: i for i, t in enumerate(tasks)}, expert_index)
    if not answers:
        return 0
    if not labels:
        # Nothing to learn yet (every task judged once, as in an overlap-1 project); noted, so
        # that the project rests like a fitted one instead of being read again every pass.
        async with pool.acquire() as conn:
            kept = priors if priors is not None else np.full(2, 0.5)
            await repo.save(conn, project_id, kept, {}, judged, dt.datetime.now(dt.UTC), time.perf_counter() - started)
        return 0
    k = max(2, max(labels) + 1, *(len(o) for o in orders.values()))
    known = dawid_skene.one_coin(np.array([estimates[e].mean if e in estimates else PRIOR_MEAN for e in experts]), k)
    initial = known.copy()
    for e, matrix in previous.items():
        if matrix.shape == (k, k):
            initial[expert_index[e]] = matrix
    fitting = time.perf_counter()
    fit = await asyncio.to_thread(
        dawid_skene.fit,
        np.array(items),
        np.array(workers),
        np.array(labels),
        n_items=len(tasks),
        n_workers=len(experts),
        n_classes=k,
        initial_confusion=initial,
        initial_priors=priors if priors is not None and priors.shape == (k,) else None,
        prior_confusion=known,
        prior_judgments=PRIOR_JUDGMENTS,
        class_prior_items=CLASS_PRIOR_ITEMS,
    )
    metrics.model_fit_seconds.observe(time.perf_counter() - fitting)
    confusion = {e: fit.confusion[i] for e, i in expert_index.items()}
    # Pairs who agree beyond what these matrices predict: judged on the same fit, in the same pass,
    # over every answer they gave, rejected ones included: a pair agrees on its rejected answers
    # too (reviews reject a coin-tossing pair's wrong half), and an expert's accuracy on the items
    # judged apart is measured without the bias of counting only what was accepted.
    # Off the event loop like the fit: pure Python over every pair's items (~0.5 s for a project of
    # 20 experts and 10k items, where every pair shares enough items to be tested).
    suspects = await asyncio.to_thread(
        collusion_test.suspects,
        every_answer,
        confusion,
        fit.priors,
    )
    async with pool.acquire() as conn, conn.transaction():
        now = dt.datetime.now(dt.UTC)
        await repo.save(conn, project_id, fit.priors, confusion, judged, now, time.perf_counter() - started)
        newly = await collusion.flag(conn, project, suspects, now)
    if newly:
        log.warning("project %s: suspected collusion, suspended %s", project_id, sorted(newly))
    return len(labels)


async def refit_forever(pool: asyncpg.Pool, metrics: QaMetrics, every_seconds: float = 10.0) -> None:
    """Background job: refit stale projects, test stale rubric projects for graders who grade
    alike, revisit the items of experts suspended since the last pass, and refresh the
    review-queue gauge."""
    while True:
        try:
            async with pool.acquire() as conn:
                stale = await repo.stale_projects(conn, REFIT_EVERY, REST_FACTOR)
                stale_rubric = await collusion_repo.stale_rubric_projects(conn, REFIT_EVERY)
                depth = await reviews_repo.queue_depth(conn)
            for slot in (0, 1):
                metrics.review_queue.labels(str(slot)).set(depth.get(slot, 0))
            for project_id in stale:
                await refit(pool, project_id, metrics)
            for project_id in stale_rubric:
                await collusion.check_rubric(pool, project_id)
            await revisit.revisit_pending(pool, metrics)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.warning("model refit pass failed; retrying later", exc_info=True)
        await asyncio.sleep(every_seconds)
