"""The collusion statistic on simulated crowds with known skills: honest experts are not flagged,
a pair that shares one coin is."""

from __future__ import annotations

import numpy as np
import pytest

from cohort_qa.domain import dawid_skene
from cohort_qa.domain.collusion import (
    expected_agreement,
    held_out_agreement,
    identical_suspects,
    labels_without_each,
    pair_counts,
    suspect_pairs,
    suspects,
    tarone_count,
)


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


def refit_suspects(judgments: list[tuple[str, str, int]]):
    """The test as QA's refit runs it: a Dawid-Skene fit of the judgments, then suspects()."""
    items = sorted({i for i, _, _ in judgments})
    experts = sorted({e for _, e, _ in judgments})
    item_index, expert_index = {t: n for n, t in enumerate(items)}, {e: n for n, e in enumerate(experts)}
    fit = dawid_skene.fit(
        np.array([item_index[i] for i, _, _ in judgments]),
        np.array([expert_index[e] for _, e, _ in judgments]),
        np.array([label for _, _, label in judgments]),
        n_items=len(items),
        n_workers=len(experts),
        n_classes=2,
    )
    return suspects(judgments, {e: fit.confusion[n] for e, n in expert_index.items()}, fit.priors)


def test_honest_crowds_raise_no_flag():
    """200 projects of 20 honest experts (accuracy 0.6-0.95), 300 items, 8 judgments each: every
    pair shares ~44 items, judged by the same fit as in production."""
    rng = np.random.default_rng(2026)
    flagged = []
    for _ in range(200):
        judgments, _ = crowd(rng, honest=20, items=300, overlap=8)
        flagged += refit_suspects(judgments)
    assert flagged == []


def test_a_pair_the_fit_flatters_is_judged_by_what_each_does_alone():
    """Two colluders who outnumber the honest expert on the items they share (overlap 3) look
    accurate to the fit: on those items they are the majority. On the items they judged apart they
    are a coin, and that is what their agreement is weighed against: flagged after 14 shared items
    (against the fitted matrices alone they are not)."""
    rng = np.random.default_rng(5)
    judgments, _ = crowd(rng, honest=12, items=80, overlap=3)
    shared = sorted({i for i, _, _ in judgments})[:14]
    for item in shared:
        judgments = [j for j in judgments if j[0] != item or j[1] == "h0"] + [(item, "h0", 1)]
        coin = int(rng.integers(0, 2))
        judgments += [(item, "c0", coin), (item, "c1", coin)]
    apart = [i for i in sorted({i for i, _, _ in judgments}) if i not in shared]
    judgments += [(item, "c0", int(rng.integers(0, 2))) for item in apart[:10]]
    judgments += [(item, "c1", int(rng.integers(0, 2))) for item in apart[10:20]]
    found = refit_suspects(judgments)
    assert [s.experts for s in found] == [("c0", "c1")]
    assert found[0].shared == 14 and found[0].agreed == 14


def test_held_out_agreement_uses_only_the_items_judged_apart():
    labels = [("t0", "a", 1), ("t0", "b", 1), ("t1", "a", 0), ("t2", "b", 1)]
    reference = {"t0": {"a": 1, "b": 1}, "t1": {"a": 1}, "t2": {"b": 1}}
    (expected,) = held_out_agreement(labels, reference, [("a", "b")], 2, quantile=0.5).values()
    # a: wrong on its one item apart (Beta(1, 2), median 0.29, raised to chance 0.5); b: right on
    # its one (Beta(2, 1), median 0.71).
    assert expected == pytest.approx(0.5 * 0.7071 + 0.5 * 0.2929, abs=1e-3)


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


def test_only_pairs_that_could_be_flagged_share_the_false_alarm_budget():
    """120 pairs of accurate experts (expected agreement 0.87: they cannot show an excess of 0.15
    whatever they do) and one pair tossing one coin on 13 shared items. Divided among all 121
    pairs (Bonferroni) the bar would be 8e-6, beyond the pair's 0.5^13 = 1.2e-4; counting only the
    pairs that could be flagged at all (Tarone), it is 1e-3 and the pair is flagged."""
    accurate, coin = dawid_skene.one_coin(np.array([0.93, 0.5]), 2)
    confusion = {f"a{i}": accurate for i in range(16)} | {"c0": coin, "c1": coin}
    counts = {(f"a{i}", f"a{j}"): (40, 36) for i in range(16) for j in range(i + 1, 16)}
    counts[("c0", "c1")] = (13, 13)
    assert len(counts) == 121
    found = suspect_pairs(counts, confusion, np.array([0.5, 0.5]))
    assert [(s.experts, s.shared) for s in found] == [(("c0", "c1"), 13)]


def test_tarones_count_is_the_least_m_with_at_most_m_testable():
    assert tarone_count([], 1e-3) == 1
    assert tarone_count([0.5, 0.9], 1e-3) == 1  # none can reach the bar
    assert tarone_count([1e-5, 1e-4, 0.5], 1e-3) == 2  # two can reach 1e-3 / 2
    assert tarone_count([1e-9] * 5 + [0.5] * 100, 1e-3) == 5


def rubric_crowd(rng: np.random.Generator, items: int, overlap: int, colluded: int = 0):
    """20 honest graders (truth on three 1..5 criteria plus noise of sd 0.56 or 1.3, rounded)
    and, on the first `colluded` items, a pair who give one shared random grade."""
    sd = {f"h{i}": 0.56 if i % 3 else 1.3 for i in range(20)}
    answers = []
    for item in range(items):
        truth = rng.integers(1, 6, size=3)
        for expert in rng.choice(sorted(sd), size=overlap, replace=False):
            grade = np.clip(np.rint(truth + rng.normal(0, sd[str(expert)], size=3)), 1, 5)
            answers.append((f"t{item}", str(expert), tuple(int(g) for g in grade)))
        if item < colluded:
            shared = tuple(int(g) for g in rng.integers(1, 6, size=3))
            answers += [(f"t{item}", "c0", shared), (f"t{item}", "c1", shared)]
    return answers


def test_honest_rubric_graders_raise_no_identical_answer_flag():
    """300 projects of 20 honest graders, 150 items graded 5 times (pairs share ~8 items on
    average; those with 12 or more are tested)."""
    rng = np.random.default_rng(11)
    flagged = [s for _ in range(300) for s in identical_suspects(rubric_crowd(rng, items=150, overlap=5))]
    assert flagged == []


def test_a_pair_grading_alike_is_flagged_at_a_dozen_shared_items():
    rng = np.random.default_rng(3)
    answers = rubric_crowd(rng, items=150, overlap=5, colluded=12)
    found = identical_suspects(answers)
    assert [(s.experts, s.shared, s.agreed) for s in found] == [(("c0", "c1"), 12, 12)]
    assert found[0].expected >= 0.2, "the null never below the floor"
    assert identical_suspects(rubric_crowd(np.random.default_rng(3), items=150, overlap=5, colluded=11)) == []


def test_each_expert_is_measured_against_what_the_others_on_the_item_say():
    """t0: the inflated expert says 0, two accurate experts say 1: the fit's label follows the
    inflated matrix (0), but the reference for the inflated expert is what the others say (1). t1: only a judge
    the fit has no matrix for (a spammer with rejected answers only) beside them: no reference."""
    accurate, inflated = dawid_skene.one_coin(np.array([0.85, 0.99]), 2)
    confusion = {"a1": accurate, "a2": accurate, "x": inflated}
    labels = [("t0", "x", 0), ("t0", "a1", 1), ("t0", "a2", 1), ("t1", "x", 0), ("t1", "spam", 1)]
    without = labels_without_each(labels, confusion, np.array([0.5, 0.5]))
    # For x, the two accurate experts; for each accurate one, x (0.99) outweighs the other (0.85).
    assert without["t0"] == {"x": 1, "a1": 0, "a2": 0}
    assert without["t1"] == {"spam": 0}, "x's own vote is no reference for x"
