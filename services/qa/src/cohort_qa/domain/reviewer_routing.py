"""Who may review a project's work: routed like an expert is routed to the work itself.

A reviewer is active and flagged a reviewer; holds the project's minimum degree; has one of its
fields (a required field admits its subfields); speaks every language it requires; is not walled
off from its lab (a conflict of interest bars reviewing a lab's work as much as doing it). Never
their own work, nor a task they labelled, nor a submission twice: those the lease query checks
against the reviews and submissions themselves. db/reviews.lease_next applies the same rules in
SQL; tests hold the two together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewerProfile:
    """QA's copy of what tasking knows about a person (ExpertProfileChanged)."""

    expert_id: str
    degree: int  # cohort.types.v1.DegreeLevel
    fields: tuple[str, ...]
    languages: tuple[str, ...]
    blocked_lab_ids: tuple[uuid.UUID, ...]
    reviewer: bool
    active: bool


@dataclass(frozen=True)
class ReviewRequirements:
    """A project's qualifications, as they bind its reviewers."""

    lab_id: uuid.UUID
    min_degree: int = 0
    fields: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


def field_matches(have: str, required: str) -> bool:
    return have == required or have.startswith(required + ".")


def ineligibility(profile: ReviewerProfile | None, project: ReviewRequirements) -> str | None:
    """Why the person may not review the project's work, or None if they may."""
    if profile is None:
        return "not a registered expert"
    if not profile.active:
        return "not active"
    if not profile.reviewer:
        return "not a reviewer"
    if project.lab_id in profile.blocked_lab_ids:
        return "walled off from the project's lab"
    if profile.degree < project.min_degree:
        return "below the project's minimum degree"
    if project.fields and not any(field_matches(h, r) for h in profile.fields for r in project.fields):
        return "none of the project's fields"
    if not set(project.languages) <= set(profile.languages):
        return "does not speak the project's languages"
    return None
