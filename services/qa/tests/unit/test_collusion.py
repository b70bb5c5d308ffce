"""The collusion statistic on simulated crowds with known skills: honest experts are not flagged,
a pair that shares one coin is."""

from __future__ import annotations

import numpy as np
import pytest

from cohort_qa.domain import dawid_skene
from cohort_qa.domain.collusion import expected_agreement, pair_counts, suspect_pairs


def crowd(rng: np.random.Generator, honest: int, items: int, overlap: int, colluders: int = 0):
    """Binary items; honest experts right with their accuracy, independently; colluders (in
    pairs) give one coin flip per pair and item, right or wrong. Returns judgments and the
    experts' true confusion matrices."""
    accuracy = {f"h{i}": float(rng.uniform(0.6, 0.95)) for i in range(honest)}
    accuracy |= {f"c{i}": 0.5 for i in range(colluders)}
    experts = sorted(accuracy)
    truth = rng.integers(0, 2, size=items)
    judgments = []
    for item in range(items):
        coins = {pair: int(rng.integers(0, 2)) for pair in range(colluders // 2)}
        for expert in rng.choice(experts, size=overlap, replace=False):
            if expert.startswith("c"):
                label = coins[int(expert[1:]) // 2]
            else:
                right = rng.random() < accuracy[expert]
                label = int(truth[item]) if right else 1 - int(truth[item])
            judgments.append((f"t{item}", str(expert), label))
    names = list(accuracy)
    matrices = dawid_skene.one_coin(np.array([accuracy[e] for e in names]), 2)
    return judgments, {e: matrices[i] for i, e in enumerate(names)}


def test_expected_agreement_of_independent_experts():
    m = dawid_skene.one_coin(np.array([0.9, 0.8]), 2)
    assert expected_agreement(m[0], m[1], np.array([0.5, 0.5])) == pytest.approx(0.9 * 0.8 + 0.1 * 0.2)


def test_honest_crowds_raise_no_flag():
    """200 projects of 30 honest experts (accuracy 0.6-0.95), 400 items, 5 judgments each."""
    rng = np.random.default_rng(2026)
    flagged = 0
    for _ in range(200):
        judgments, confusion = crowd(rng, honest=30, items=400, overlap=5)
        flagged += len(suspect_pairs(pair_counts(judgments), confusion, np.array([0.5, 0.5])))
    assert flagged == 0


def test_a_pair_sharing_one_coin_is_flagged_and_nobody_else():
    rng = np.random.default_rng(7)
    judgments, confusion = crowd(rng, honest=20, items=600, overlap=5, colluders=2)
    found = suspect_pairs(pair_counts(judgments), confusion, np.array([0.5, 0.5]))
    assert [s.experts for s in found] == [("c0", "c1")]
    (pair,) = found
    assert pair.agreed == pair.shared and pair.expected == pytest.approx(0.5) and pair.p_value < 1e-6


def test_too_few_shared_items_say_nothing():
    counts = {("a", "b"): (10, 10)}
    m = dawid_skene.one_coin(np.array([0.5, 0.5]), 2)
    assert suspect_pairs(counts, {"a": m[0], "b": m[1]}, np.array([0.5, 0.5])) == []
