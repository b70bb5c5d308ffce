"""Which submissions a human reviews: the project's rate, more for new or doubtful experts."""

from __future__ import annotations

import hashlib
import uuid

from cohort_qa.domain.quality import Estimate

NEW_EXPERT_EVIDENCE = 10
"""Experts with less evidence than this in the domain are reviewed at twice the rate."""
DOUBTFUL_MARGIN = 0.1
"""Experts whose estimate is within this of the project's threshold are reviewed at three times."""


def review_probability(rate: float, estimate: Estimate | None, minimum_quality: float) -> float:
    factor = 1.0
    if estimate is None or estimate.evidence < NEW_EXPERT_EVIDENCE:
        factor = 2.0
    if estimate is not None and estimate.mean < minimum_quality + DOUBTFUL_MARGIN:
        factor = 3.0
    return min(1.0, max(0.0, rate) * factor)


def sampled(submission_id: uuid.UUID, probability: float) -> bool:
    """A draw fixed by the submission id, so a retried handler makes the same choice."""
    digest = hashlib.blake2b(submission_id.bytes, digest_size=8, person=b"qa-review").digest()
    return int.from_bytes(digest, "big") / 2**64 < probability


CALIBRATION_SHARE = 0.1
"""Share of reviewed submissions that get a second, independent review (reviewer agreement)."""


def calibration(submission_id: uuid.UUID) -> bool:
    digest = hashlib.blake2b(submission_id.bytes, digest_size=8, person=b"qa-calib").digest()
    return int.from_bytes(digest, "big") / 2**64 < CALIBRATION_SHARE


GOLD_REVIEW_SHARE = 0.3
"""Share of gold-scored submissions also sent to a reviewer (after the deciding reviews, not
deciding: gold has): the truth is known, so the verdict measures the reviewer."""


def gold_review(submission_id: uuid.UUID) -> bool:
    digest = hashlib.blake2b(submission_id.bytes, digest_size=8, person=b"qa-goldrev").digest()
    return int.from_bytes(digest, "big") / 2**64 < GOLD_REVIEW_SHARE
