"""Expert quality per domain: a Beta posterior over the evidence QA collects.

Each piece of evidence is a weighted success or failure: a gold answer (weight 1), a review
(its normalized weighted total as the success share, so a middling review counts half), a
rejection by the automatic checks (a failure, weight 1: spam and copies are quality too), and
agreement with a finalized aggregate (weight 0.5, weaker because the aggregate may be wrong). The
prior Beta(3, 1) says vetted experts are probably good (mean 0.75) but is worth only four answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta as beta_distribution

PRIOR_SUCCESSES = 3.0
PRIOR_FAILURES = 1.0
CREDIBLE_MASS = 0.90
MIN_EVIDENCE_TO_SUSPEND = 10
DOMAIN_FLOOR = 0.5
"""Below this (with confidence) an expert is suspended in the whole domain, whatever the project."""

GOLD_WEIGHT = 1.0
REVIEW_WEIGHT = 1.0
AGREEMENT_WEIGHT = 0.5
CHECKS_WEIGHT = 1.0


@dataclass(frozen=True)
class Evidence:
    successes: float = 0.0
    failures: float = 0.0
    pieces: int = 0

    def __add__(self, other: Evidence) -> Evidence:
        return Evidence(self.successes + other.successes, self.failures + other.failures, self.pieces + other.pieces)


def gold(correct: bool) -> Evidence:
    return Evidence(GOLD_WEIGHT if correct else 0.0, 0.0 if correct else GOLD_WEIGHT, 1)


def review(normalized_total: float, accepted: bool, weight: float = REVIEW_WEIGHT) -> Evidence:
    """A review as evidence; `weight` is how far the reviewer is trusted (their estimated accuracy:
    a review by a reviewer who is right 60 % of the time moves an expert's estimate less)."""
    share = min(1.0, max(0.0, normalized_total))
    if not accepted:
        share = min(share, 0.25)  # a rejection is mostly failure, however the rubric scored
    return Evidence(weight * share, weight * (1 - share), 1)


def failed_checks() -> Evidence:
    """A submission the automatic checks rejected (empty, copied, too fast, ...): a failure."""
    return Evidence(0.0, CHECKS_WEIGHT, 1)


def agreement(agreed: bool) -> Evidence:
    return Evidence(AGREEMENT_WEIGHT if agreed else 0.0, 0.0 if agreed else AGREEMENT_WEIGHT, 1)


@dataclass(frozen=True)
class Estimate:
    mean: float
    lower: float
    upper: float
    evidence: int


def estimate(evidence: Evidence) -> Estimate:
    return estimates([evidence])[0]


def estimates(
    evidence: list[Evidence], prior: tuple[float, float] = (PRIOR_SUCCESSES, PRIOR_FAILURES)
) -> list[Estimate]:
    """Many at once: the interval's quantiles are one vectorised call (scipy's per-call cost
    dominates when done one expert at a time). `prior` is Beta(successes, failures)."""
    if not evidence:
        return []
    a = np.array([prior[0] + e.successes for e in evidence])
    b = np.array([prior[1] + e.failures for e in evidence])
    tail = (1 - CREDIBLE_MASS) / 2
    lower = beta_distribution.ppf(tail, a, b)
    upper = beta_distribution.ppf(1 - tail, a, b)
    mean = a / (a + b)
    return [
        Estimate(mean=float(mean[i]), lower=float(lower[i]), upper=float(upper[i]), evidence=e.pieces)
        for i, e in enumerate(evidence)
    ]


def below(estimate: Estimate, threshold: float) -> bool:
    """Confidently below: enough evidence, and even the interval's upper bound under the bar."""
    return threshold > 0 and estimate.evidence >= MIN_EVIDENCE_TO_SUSPEND and estimate.upper < threshold
