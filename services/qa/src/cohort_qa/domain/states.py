"""The states a submission passes through in QA."""

from __future__ import annotations

from enum import StrEnum


class SubmissionState(StrEnum):
    WAITING = "waiting"
    """Stored, not judged: its project is not known to QA yet."""
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


DECIDED = (SubmissionState.ACCEPTED, SubmissionState.REJECTED)
