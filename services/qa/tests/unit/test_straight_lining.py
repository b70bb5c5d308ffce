"""The straight-lining test on simulated graders: honest ones (truth plus noise) are never
suspended, one who gives every criterion the same score is, after a dozen grades."""

from __future__ import annotations

import numpy as np

from cohort_qa.domain import straight_lining


def honest_grades(rng: np.random.Generator, items: int, sd: float) -> list[dict[str, float]]:
    """Three criteria on a 1..5 scale, each item's true scores drawn at random, read with noise."""
    truth = rng.integers(1, 6, size=(items, 3))
    grades = np.clip(np.rint(truth + rng.normal(0, sd, size=truth.shape)), 1, 5)
    return [{c: float(g) for c, g in zip(("a", "b", "c"), row, strict=True)} for row in grades]


def test_flat_means_every_criterion_alike():
    assert straight_lining.is_flat({"a": 5, "b": 5, "c": 5})
    assert not straight_lining.is_flat({"a": 5, "b": 4, "c": 5})
    assert not straight_lining.is_flat({"a": 5}), "one criterion says nothing"


def test_honest_graders_are_never_suspended_and_a_straight_liner_is_at_a_dozen():
    """2,000 honest graders (sd 0.56 or 1.3, 60 grades each), each weighed after every grade
    against a pool of 20 others: none beyond doubt. A grader who is flat every time is, at
    their 12th grade."""
    rng = np.random.default_rng(2026)
    pool = [g for _ in range(20) for g in honest_grades(rng, 60, 0.56)]
    others_flat, others_graded = sum(map(straight_lining.is_flat, pool)), len(pool)
    assert 0.02 < others_flat / others_graded < 0.15, "the premise: honest grades are sometimes flat"
    suspended = 0
    for n in range(2000):
        flat = 0
        for graded, grade in enumerate(honest_grades(rng, 60, 0.56 if n % 2 else 1.3), start=1):
            flat += straight_lining.is_flat(grade)
            if straight_lining.beyond_doubt(flat, graded, others_flat, others_graded):
                suspended += 1
                break
    assert suspended == 0
    caught = next(n for n in range(1, 40) if straight_lining.beyond_doubt(n, n, others_flat, others_graded))
    assert caught == straight_lining.MIN_GRADES


def test_a_project_whose_graders_are_mostly_flat_does_not_make_flat_grading_suspect():
    # Work that deserves full marks on every criterion: the others are flat 70 % of the time.
    assert not straight_lining.beyond_doubt(20, 25, 700, 1000)
    assert straight_lining.beyond_doubt(40, 40, 100, 1000)
