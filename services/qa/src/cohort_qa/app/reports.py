"""Project quality figures, computed from the project's decided work when asked."""

from __future__ import annotations

import json
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg

from cohort_qa.db import projects as projects_repo
from cohort_qa.db import quality as quality_repo
from cohort_qa.db import reviewer_quality as reviewer_repo
from cohort_qa.db import revisit as revisit_repo
from cohort_qa.domain import agreement, reviewer_quality
from cohort_qa.domain.errors import ProjectNotFound
from cohort_qa.domain.projects import DataKind, QaProject
from cohort_qa.domain.quality import Estimate
from cohort_qa.domain.states import DECIDED, SubmissionState


@dataclass(frozen=True)
class ProjectQualityReport:
    project: QaProject
    alpha: float
    alpha_level: str
    gold_accuracy: float
    acceptance_rate: float
    reviewer_agreement: float
    flagged_expert_ids: list[str]
    counts: dict[str, int]
    items_finalized: int
    rejection_reasons: dict[str, int] = field(default_factory=dict)
    criterion_alpha: dict[str, float] = field(default_factory=dict)
    reviewer_accuracy: float = math.nan
    reworks_open: int = 0
    revisits_pending: int = 0


async def project_quality(pool: asyncpg.Pool, project_id: uuid.UUID, lab_id: str | None = None) -> ProjectQualityReport:
    """The project's figures; with `lab_id`, only if that lab owns it (another lab's project is
    NOT_FOUND, so not even its existence leaks)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        project = await projects_repo.get(conn, project_id)
        if project is None or (lab_id is not None and str(project.lab_id) != lab_id):
            raise ProjectNotFound(str(project_id))
        counts = {
            r["state"]: r["n"]
            for r in await conn.fetch(
                "SELECT state, count(*) AS n FROM submissions WHERE project_id = $1 GROUP BY state", project_id
            )
        }
        reasons = {
            r["reason"]: r["n"]
            for r in await conn.fetch(
                """SELECT reason, count(*) AS n FROM submissions, unnest(reasons) AS reason
                   WHERE project_id = $1 AND state = 'rejected' GROUP BY reason""",
                project_id,
            )
        }
        gold = await conn.fetchrow(
            """SELECT count(*) FILTER (WHERE gold_outcome = 'correct') AS correct, count(gold_outcome) AS scored
               FROM submissions WHERE project_id = $1""",
            project_id,
        )
        items = await conn.fetchval("SELECT count(*) FROM items WHERE project_id = $1", project_id)
        alpha, level, by_criterion = await _expert_alpha(conn, project)
        flagged = [
            r["expert_id"]
            for r in await conn.fetch(
                """SELECT expert_id FROM project_suspensions WHERE project_id = $1
                   UNION
                   SELECT q.expert_id FROM expert_quality q
                   WHERE q.domain = $2 AND q.suspended
                     AND EXISTS (SELECT 1 FROM submissions s WHERE s.project_id = $1 AND s.expert_id = q.expert_id)
                   ORDER BY 1""",
                project_id,
                project.domain,
            )
        ]
        reviewer_agreement = await _reviewer_alpha(conn, project_id)
        reviewer_accuracy = await reviewer_repo.project_accuracy(
            conn, project_id, project.domain, reviewer_quality.PRIOR_MEAN
        )
        reworks_open, revisits_pending = await revisit_repo.open_counts(conn, project_id)
    decided = sum(counts.get(state, 0) for state in DECIDED)
    return ProjectQualityReport(
        project=project,
        alpha=alpha,
        alpha_level=level,
        gold_accuracy=gold["correct"] / gold["scored"] if gold["scored"] else math.nan,
        acceptance_rate=counts.get(SubmissionState.ACCEPTED, 0) / decided if decided else math.nan,
        reviewer_agreement=reviewer_agreement,
        flagged_expert_ids=flagged,
        counts=counts,
        items_finalized=items,
        rejection_reasons=reasons,
        criterion_alpha=by_criterion,
        reviewer_accuracy=math.nan if reviewer_accuracy is None else reviewer_accuracy,
        reworks_open=reworks_open,
        revisits_pending=revisits_pending,
    )


async def _expert_alpha(conn: asyncpg.Connection, project: QaProject) -> tuple[float, str, dict[str, float]]:
    """Alpha over the project's accepted judgments, its level, and (rubric grades) each criterion's."""
    units: dict[object, dict[str, float]] = defaultdict(dict)
    if project.kind is DataKind.PREFERENCE:
        codes: dict[str, int] = {}
        for r in await conn.fetch(
            """SELECT task_id, expert_id, top_choice FROM submissions
               WHERE project_id = $1 AND state = 'accepted' AND top_choice IS NOT NULL""",
            project.project_id,
        ):
            units[r["task_id"]][r["expert_id"]] = codes.setdefault(r["top_choice"], len(codes))
        return agreement.alpha(units, "nominal"), "nominal", {}
    if project.kind is DataKind.RUBRIC_GRADE:
        ratings = [
            (r["task_id"], r["expert_id"], json.loads(r["scores"]))
            for r in await conn.fetch(
                """SELECT task_id, expert_id, scores FROM submissions
                   WHERE project_id = $1 AND state = 'accepted' AND scores IS NOT NULL""",
                project.project_id,
            )
        ]
        pooled, by_criterion = agreement.rubric_alphas(ratings, [c.name for c in project.criteria])
        return pooled, "interval", by_criterion
    return math.nan, "", {}


async def _reviewer_alpha(conn: asyncpg.Connection, project_id: uuid.UUID) -> float:
    units: dict[object, dict[str, float]] = defaultdict(dict)
    for r in await conn.fetch(
        """SELECT submission_id, reviewer_id, weighted_total FROM reviews
           WHERE project_id = $1 AND state = 'done'""",
        project_id,
    ):
        units[r["submission_id"]][r["reviewer_id"]] = r["weighted_total"]
    return agreement.alpha(units, "interval")


DomainStanding = quality_repo.DomainStanding


@dataclass(frozen=True)
class Standings:
    as_expert: list[DomainStanding]
    as_reviewer: list[DomainStanding]
    """`suspended` here: no more reviews in the domain (domain/reviewer_quality.py)."""


async def expert_standings(pool: asyncpg.Pool, expert_id: str) -> Standings:
    async with pool.acquire() as conn:
        as_expert = await quality_repo.of_expert(conn, expert_id)
        rows = await reviewer_repo.of_reviewer(conn, expert_id)
    as_reviewer = []
    for r in rows:
        excluded = reviewer_quality.excluded(Estimate(r["mean"], r["lower"], r["upper"], r["pieces"]))
        as_reviewer.append(
            DomainStanding(r["domain"], r["mean"], r["lower"], r["upper"], r["pieces"], excluded, r["as_of"])
        )
    return Standings(as_expert, as_reviewer)
