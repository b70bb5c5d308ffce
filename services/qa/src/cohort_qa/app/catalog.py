"""What QA keeps of other services' records: projects (and their state), task inputs, gold
references and people's routing profiles. Each call runs inside the inbox transaction of the
event that carried it."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from cohort_qa.app import pipeline, screening
from cohort_qa.db import projects as projects_repo
from cohort_qa.db import reviewer_profiles
from cohort_qa.db import tasks as tasks_repo
from cohort_qa.domain.checks import CheckLimits
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.reviewer_routing import ReviewerProfile
from cohort_qa.metrics import QaMetrics


async def project_activated(
    conn: asyncpg.Connection, project: QaProject, metrics: QaMetrics, limits: CheckLimits
) -> None:
    """Store the project, then judge what waited for it: work and screening answers that came first."""
    await projects_repo.upsert(conn, project)
    await pipeline.project_known(conn, project, metrics, limits)
    await screening.score_waiting(conn, project.project_id)


async def profile_changed(conn: asyncpg.Connection, profile: ReviewerProfile, changed_at: dt.datetime) -> None:
    await reviewer_profiles.upsert(conn, profile, changed_at)


async def project_state(conn: asyncpg.Connection, project_id: uuid.UUID, state: str) -> None:
    await projects_repo.set_state(conn, project_id, state)


async def tasks_added(
    conn: asyncpg.Connection, project_id: uuid.UUID, inputs: list[tuple[str, bytes, bool, list[str]]]
) -> None:
    """(task id, serialized input, is gold, candidate ids in the lab's order) per task."""
    await tasks_repo.add_inputs(conn, project_id, inputs)


async def gold_added(conn: asyncpg.Connection, project_id: uuid.UUID, references: list[tuple[str, bytes]]) -> None:
    """Store the references, then score screening answers that waited for them."""
    await tasks_repo.add_gold(conn, project_id, references)
    await screening.score_waiting(conn, project_id)
