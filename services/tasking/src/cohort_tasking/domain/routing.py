"""Who may work on which project, and in what order projects are offered.

Eligibility: the expert is active; meets the degree, field, language and cohort requirements;
is not walled off from the project's lab; is not confidently below the project's minimum quality
(the upper bound of QA's 90 % credible interval for the domain is at or above it; an expert QA has
not measured counts at the prior's); is below the per-expert cap.

Why the bound and not the mean: the mean of a few judgments wanders, and an expert barred when it
dipped under the bar gathers no more evidence to climb back, so honest experts near the bar (a
0.68 expert under a 0.6 minimum) were shut out for good. Experts who are plainly bad reach a low
bound quickly (six rejections by the automatic checks), and QA's own tests catch position bias and
collusion, which agreement evidence is too weak to tell quickly.
Order: priority (high first), then deadline (soonest first).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from cohort_tasking.domain.experts import Expert, ExpertStatus

# The upper bound of an expert QA has not measured yet in a domain: the 95th percentile of QA's
# prior, Beta(3, 1), whose distribution function is x**3 (vetted experts are presumed good until
# evidence says otherwise), so both services agree.
PRIOR_UPPER = 0.95 ** (1 / 3)


@dataclass(frozen=True)
class Criterion:
    name: str
    scale_min: int
    scale_max: int
    # Shown to the expert beside the scale; validation needs only the name and the scale.
    description: str = ""
    weight: float = 0.0


@dataclass(frozen=True)
class RoutingProject:
    project_id: uuid.UUID
    lab_id: uuid.UUID
    data_kind: int  # cohort.types.v1.DataKind
    domain: str
    min_degree: int
    fields: tuple[str, ...]
    languages: tuple[str, ...]
    cohort_ids: tuple[str, ...]
    min_quality: float
    overlap: int
    max_overlap: int
    gold_rate: float
    priority: int
    deadline: dt.datetime
    lease: dt.timedelta
    per_expert_task_cap: int
    per_task_cap_seconds: int  # 0 unless paid hourly
    rubric: tuple[Criterion, ...]
    instructions: str = ""
    screening_tasks: int = 0  # answers of the screening test each expert gives first (0: no test)


def _field_matches(expert_field: str, required: str) -> bool:
    # A required field admits its subfields; a required subfield admits exactly that subfield.
    return expert_field == required or expert_field.startswith(required + ".")


def suspension_scopes(domain: str, project_id: uuid.UUID) -> tuple[str, str]:
    return f"domain:{domain}", f"project:{project_id}"


def ineligibility(
    expert: Expert,
    cohorts: frozenset[str],
    quality_upper: dict[str, float],
    project: RoutingProject,
    suspended: frozenset[str] = frozenset(),
    failed_screening: frozenset[uuid.UUID] = frozenset(),
) -> str | None:
    """Why `expert` may not work on `project`, or None if they may (an expert still to take or
    finish the project's screening test may: they are served its tasks first)."""
    if expert.status is not ExpertStatus.ACTIVE:
        return f"expert is {expert.status.value}"
    if project.project_id in failed_screening:
        return "did not pass the project's screening test"
    if suspended.intersection(suspension_scopes(project.domain, project.project_id)):
        return "suspended by QA for this domain or project"
    if project.lab_id in expert.blocked_lab_ids:
        return "conflict of interest with the project's lab"
    if expert.degree < project.min_degree:
        return "degree below the project's minimum"
    if project.fields and not any(_field_matches(f, r) for f in expert.fields for r in project.fields):
        return "no required field of study"
    speaks = {lang.lower() for lang in expert.languages} | {lang.split("-")[0].lower() for lang in expert.languages}
    if any(lang.lower() not in speaks for lang in project.languages):
        return "a required language is missing"
    if project.cohort_ids and not cohorts.intersection(project.cohort_ids):
        return "not in a required cohort"
    if quality_upper.get(project.domain, PRIOR_UPPER) < project.min_quality:
        return "quality in the domain confidently below the project's minimum"
    return None


def routing_order(projects: list[RoutingProject]) -> list[RoutingProject]:
    return sorted(projects, key=lambda p: (-p.priority, p.deadline, str(p.project_id)))
