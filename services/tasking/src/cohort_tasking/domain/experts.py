"""Experts: pseudonymous profiles that routing matches against project requirements."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
import zoneinfo
from dataclasses import dataclass

from cohort_runtime.domain_errors import InvalidInput, Violation

_EXPERT_ID = re.compile(r"^exp_[a-z0-9]{6,40}$")
_FIELD = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
COHORT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ExpertStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    OFFBOARDED = "offboarded"


@dataclass(frozen=True)
class Expert:
    expert_id: str
    degree: int  # cohort.types.v1.DegreeLevel: 0 none .. 4 doctorate
    fields: tuple[str, ...]
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    country: str
    timezone: str
    weekly_hours: int
    blocked_lab_ids: tuple[uuid.UUID, ...]
    reviewer: bool
    status: ExpertStatus
    create_time: dt.datetime

    def same_profile(self, other: Expert) -> bool:
        """Equal apart from status and timestamps (what a repeated registration must match)."""
        keys = (
            "degree",
            "fields",
            "skills",
            "languages",
            "country",
            "timezone",
            "weekly_hours",
            "blocked_lab_ids",
            "reviewer",
        )
        return all(getattr(self, k) == getattr(other, k) for k in keys)


def _is_time_zone(name: str) -> bool:
    # zoneinfo reads the IANA database (the system's, or the tzdata package where there is none);
    # a name that is no zone there, or no path at all, is refused.
    if len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def validate(e: Expert) -> None:
    v: list[Violation] = []
    if not _EXPERT_ID.match(e.expert_id):
        v.append(Violation("expert.expert_id", "must be 'exp_' followed by 6..40 of [a-z0-9]"))
    if not 0 <= e.degree <= 4:
        v.append(Violation("expert.degree", "unknown degree level"))
    for i, f in enumerate(e.fields):
        if not _FIELD.match(f):
            v.append(Violation(f"expert.fields[{i}]", "must be a taxonomy field or domain, e.g. 'chemistry.organic'"))
    for i, lang in enumerate(e.languages):
        if not _LANGUAGE.match(lang):
            v.append(Violation(f"expert.languages[{i}]", "must be a BCP 47 language tag"))
    if len(e.skills) > 50 or any(not s.strip() or len(s) > 100 for s in e.skills):
        v.append(Violation("expert.skills", "at most 50 skills of 1..100 characters"))
    if e.country and not _COUNTRY.match(e.country):
        v.append(Violation("expert.country", "must be an ISO 3166-1 alpha-2 code"))
    if e.timezone and not _is_time_zone(e.timezone):
        v.append(Violation("expert.timezone", "must be an IANA time zone name, e.g. 'Europe/Berlin'"))
    if not 0 <= e.weekly_hours <= 80:
        v.append(Violation("expert.weekly_hours", "must be 0..80"))
    if v:
        raise InvalidInput(v)


@dataclass(frozen=True)
class Qualification:
    """QA's decision on an expert's screening test for a project (a later one replaces it)."""

    expert_id: str
    project_id: uuid.UUID
    passed: bool
    correct: int
    answered: int
    decide_time: dt.datetime
