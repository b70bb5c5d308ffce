"""Reviewer quality per domain: how often a reviewer's verdict is right, as a Beta posterior.

Reviewers make mistakes, so their verdicts are evidence to be weighed, not truth. Two sources:
- a review of a gold-scored submission (a sampled share of gold work is sent to review although
  gold already decided it): the verdict is right when it accepts work gold found correct and
  rejects work gold found incorrect (weight 1);
- a double review (the sampled calibration review): agreeing with the other reviewer is weak
  evidence for both, disagreeing weak evidence against both (weight 0.5 each; either may be the
  one who is wrong, and two reviewers can share a mistake).
The prior Beta(4, 1) says vetted reviewers are probably right (mean 0.8) and is worth five
reviews. A review's weight as evidence about the expert it judges is the reviewer's mean; a
reviewer confidently below REVIEWER_FLOOR (the interval's upper bound, with enough evidence) is
offered no more reviews in the domain.
"""

from __future__ import annotations

from cohort_qa.domain.quality import Estimate, Evidence, estimates

PRIOR = (4.0, 1.0)
PRIOR_MEAN = PRIOR[0] / sum(PRIOR)
"""A reviewer's estimated accuracy before any evidence."""
GOLD_WEIGHT = 1.0
AGREEMENT_WEIGHT = 0.5
REVIEWER_FLOOR = 0.7
MIN_EVIDENCE = 10


def gold_checked(accepted: bool, gold_correct: bool) -> Evidence:
    """A verdict on work whose gold outcome is known."""
    right = accepted == gold_correct
    return Evidence(GOLD_WEIGHT if right else 0.0, 0.0 if right else GOLD_WEIGHT, 1)


def agreement(agreed: bool) -> Evidence:
    """One reviewer's verdict beside another's on the same submission."""
    return Evidence(AGREEMENT_WEIGHT if agreed else 0.0, 0.0 if agreed else AGREEMENT_WEIGHT, 1)


def evidence_of_review(
    reviewer_id: str, accepted: bool, gold_correct: bool | None, others: list[tuple[str, bool]]
) -> dict[str, Evidence]:
    """What one completed review says about reviewers: its own reviewer against gold (when the
    work was gold-scored), and both sides of each earlier verdict on the same submission."""
    out: dict[str, Evidence] = {}

    def add(who: str, e: Evidence) -> None:
        out[who] = out.get(who, Evidence()) + e

    if gold_correct is not None:
        add(reviewer_id, gold_checked(accepted, gold_correct))
    for other, other_accepted in others:
        if other != reviewer_id:
            add(reviewer_id, agreement(accepted == other_accepted))
            add(other, agreement(accepted == other_accepted))
    return out


def estimate_all(evidence: list[Evidence]) -> list[Estimate]:
    return estimates(evidence, PRIOR)


def excluded(estimate: Estimate | None) -> bool:
    """Confidently below the floor: no more reviews for them in the domain."""
    return estimate is not None and estimate.evidence >= MIN_EVIDENCE and estimate.upper < REVIEWER_FLOOR
