"""Turning evidence into expert quality estimates, suspensions and ExpertQualityUpdated events."""

from __future__ import annotations

import datetime as dt

import asyncpg

from cohort_qa.db import quality as repo
from cohort_qa.domain import quality
from cohort_qa.domain.projects import QaProject
from cohort_qa.domain.quality import Estimate, Evidence
from cohort_qa.events import outgoing
from cohort_qa.events.outgoing import Outgoing

BELOW_DOMAIN_FLOOR = "quality_below_domain_floor"
BELOW_PROJECT_THRESHOLD = "quality_below_project_threshold"


async def record(
    conn: asyncpg.Connection, project: QaProject, evidence: dict[str, Evidence], now: dt.datetime
) -> list[Outgoing]:
    """Add evidence for the project's domain; one ExpertQualityUpdated per expert it touched.

    A domain suspension (confidently below the platform floor) sticks until an operator lifts
    it; a project suspension (confidently below the project's minimum quality) is announced once.
    When both apply, the domain one is announced: it covers the project."""
    evidence = {e: ev for e, ev in evidence.items() if ev.pieces}
    if not evidence:
        return []
    accumulated = await repo.add_evidence(conn, project.domain, evidence)
    already = await repo.project_suspended(conn, project.project_id, sorted(accumulated))
    stored: dict[str, tuple[Estimate, bool]] = {}
    out: list[Outgoing] = []
    experts = sorted(accumulated)
    computed = dict(zip(experts, quality.estimates([accumulated[e][0] for e in experts]), strict=True))
    for expert_id in experts:
        was_suspended = accumulated[expert_id][1]
        estimate = computed[expert_id]
        newly_domain = not was_suspended and quality.below(estimate, quality.DOMAIN_FLOOR)
        domain_suspended = was_suspended or newly_domain
        stored[expert_id] = (estimate, domain_suspended)
        if (
            not domain_suspended
            and expert_id not in already
            and quality.below(estimate, project.minimum_quality)
            and await repo.suspend_in_project(conn, expert_id, project.project_id, [BELOW_PROJECT_THRESHOLD], now)
        ):
            out.append(
                outgoing.quality_updated(
                    expert_id,
                    project.domain,
                    estimate,
                    suspended=True,
                    project_id=project.project_id,
                    reasons=[BELOW_PROJECT_THRESHOLD],
                    when=now,
                )
            )
            continue
        out.append(
            outgoing.quality_updated(
                expert_id,
                project.domain,
                estimate,
                suspended=domain_suspended,
                project_id=None,
                reasons=[BELOW_DOMAIN_FLOOR] if domain_suspended else [],
                when=now,
            )
        )
    await repo.store_estimates(conn, project.domain, stored, now)
    return out
