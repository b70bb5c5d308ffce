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
from cohort_qa.domain import agreement
from cohort_qa.domain.errors import ProjectNotFound
from cohort_qa.domain.projects import DataKind, QaProject
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
        alpha, level = await _expert_alpha(conn, project)
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
    )


async def _expert_alpha(conn: asyncpg.Connection, project: QaProject) -> tuple[float, str]:
    units: dict[object, dict[str, float]] = defaultdict(dict)
    if project.kind is DataKind.PREFERENCE:
        codes: dict[str, int] = {}
        for r in await conn.fetch(
            """SELECT task_id, expert_id, top_choice FROM submissions
               WHERE project_id = $1 AND state = 'accepted' AND top_choice IS NOT NULL""",
            project.project_id,
        ):
            units[r["task_id"]][r["expert_id"]] = codes.setdefault(r["top_choice"], len(codes))
        return agreement.alpha(units, "nominal"), "nominal"
    if project.kind is DataKind.RUBRIC_GRADE:
        for r in await conn.fetch(
            """SELECT task_id, expert_id, scores FROM submissions
               WHERE project_id = $1 AND state = 'accepted' AND scores IS NOT NULL""",
            project.project_id,
        ):
            for criterion, value in json.loads(r["scores"]).items():
                units[(r["task_id"], criterion)][r["expert_id"]] = value
        return agreement.alpha(units, "interval"), "interval"
    return math.nan, ""


async def _reviewer_alpha(conn: asyncpg.Connection, project_id: uuid.UUID) -> float:
    units: dict[object, dict[str, float]] = defaultdict(dict)
    for r in await conn.fetch(
        """SELECT submission_id, reviewer_id, weighted_total FROM reviews
           WHERE project_id = $1 AND state = 'done'""",
        project_id,
    ):
        units[r["submission_id"]][r["reviewer_id"]] = r["weighted_total"]
    return agreement.alpha(units, "interval")


async def expert_standings(pool: asyncpg.Pool, expert_id: str) -> list[quality_repo.DomainStanding]:
    async with pool.acquire() as conn:
        return await quality_repo.of_expert(conn, expert_id)
