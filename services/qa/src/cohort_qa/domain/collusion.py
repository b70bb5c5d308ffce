"""Experts who agree with each other more than their skill explains.

Two honest experts judge independently given the true answer, so how often they agree follows
from their confusion matrices and how common each answer is: for a pair (i, j) the chance of the
same first choice on an item is E = Σ_c π_c Σ_k C_i[c, k] · C_j[c, k]. Colluders (copying each
other, or one coin for both) agree far more often than that, right and wrong alike.

Matrices fitted on the same judgments flatter a colluding pair (their agreement makes each look
right), so a pair is judged against what each of them does without the other: their accuracy on
the items the partner did not judge, measured against what the item's other judges say
(labels_without_each: the fit's own label of an item carries the expert's inflated vote), taken
at its upper 75 % credible bound (Beta(1, 1) prior; generous, so an honest pair measured on few items is not
accused; a pair never apart is taken at 0.75 each), as one-coin matrices.

Over the n items a pair both judged, with k agreements, the one-sided binomial tail
P(X ≥ k | n, E) is the evidence. A pair is suspect when that tail is below alpha divided by the number
of pairs tested, the pair shared at least `min_shared` items, and the excess k/n - E is at least
`min_excess` (large samples make tiny, harmless excesses significant).

The division keeps the whole project's false-alarm chance below alpha (Bonferroni), and only the
pairs that could be flagged at all are counted (Tarone's refinement for discrete tests, still
family-wise at alpha): a pair's smallest possible tail is E^n (agreeing on every item), and a pair
of two accurate experts (E near 0.9) can never show an excess of 0.15 nor reach the bar in a
dozen items. Counting them left a coin-tossing pair that agreed on 12 of 12 shared items
unflagged in a demo crowd of 31. With alpha = 0.0005 honest crowds, simulated with known skills and judged by the
same refit, raise no flag in 200 projects whose pairs share ~40 items each
(tests/unit/test_collusion.py), nor in 1,000 of them, nor in 1,000 smaller ones (~6 shared). At
0.001 there were two in each 1,000: measured against the other judges, an honest expert's
accuracy is no longer flattered by their own vote either.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import TypeVar

import numpy as np
from scipy.stats import beta, binom

ALPHA = 5e-4
Label = TypeVar("Label", bound=Hashable)
MIN_SHARED = 12
MIN_EXCESS = 0.15


@dataclass(frozen=True)
class SuspectPair:
    experts: tuple[str, str]
    shared: int
    agreed: int
    expected: float
    p_value: float


def expected_agreement(conf_i: np.ndarray, conf_j: np.ndarray, priors: np.ndarray) -> float:
    """The chance two independent experts with these confusion matrices give the same label."""
    return float(np.sum(priors[:, None] * conf_i * conf_j))


def _first_labels(labels: Iterable[tuple[str, str, Label]]) -> dict[str, dict[str, Label]]:
    """item -> expert -> their first label of it."""
    by_item: dict[str, dict[str, Label]] = defaultdict(dict)
    for item, expert, label in labels:
        by_item[item].setdefault(expert, label)
    return by_item


def pair_counts(labels: Iterable[tuple[str, str, Hashable]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(item, expert, label) judgments -> per expert pair (sorted ids): (items shared, agreements).
    An expert's later judgment of an item they already judged is ignored."""
    by_item = _first_labels(labels)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for judged in by_item.values():
        for a, b in combinations(sorted(judged), 2):
            c = counts[(a, b)]
            c[0] += 1
            c[1] += int(judged[a] == judged[b])
    return {pair: (n, k) for pair, (n, k) in counts.items()}


def held_out_agreement(
    labels: Iterable[tuple[str, str, int]],
    reference: Mapping[str, Mapping[str, int]],
    pairs: Iterable[tuple[str, str]],
    n_classes: int,
    quantile: float = 0.75,
) -> dict[tuple[str, str], float]:
    """For each pair, the agreement expected of two independent experts as accurate as each of
    them is on the items the partner did not judge, against `reference` (item -> expert -> the
    label that expert is measured against: labels_without_each), each accuracy at its upper
    `quantile` credible bound."""
    by_item = _first_labels(labels)
    judged: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for item, experts in by_item.items():
        for expert in experts:
            label = reference.get(item, {}).get(expert)
            if label is not None:
                judged[expert].append((item, label))

    def accuracy(expert: str, partner: str) -> float:
        alone = [(i, label) for i, label in judged[expert] if partner not in by_item[i]]
        right = sum(by_item[i][expert] == label for i, label in alone)
        upper = float(beta.ppf(quantile, right + 1, len(alone) - right + 1))
        return max(upper, 1.0 / n_classes)

    out = {}
    for a, b in pairs:
        acc_a, acc_b = accuracy(a, b), accuracy(b, a)
        out[(a, b)] = acc_a * acc_b + (1 - acc_a) * (1 - acc_b) / (n_classes - 1)
    return out


def tarone_count(smallest_tails: list[float], alpha: float) -> int:
    """Tarone's m: the least m such that at most m hypotheses could reach alpha / m at all, given
    each one's smallest possible p-value. Dividing alpha by it bounds the family-wise error like
    Bonferroni over all of them, since a hypothesis that cannot reach the bar cannot err."""
    ordered = sorted(smallest_tails)
    m = 1
    while bisect_right(ordered, alpha / m) > m:
        m += 1
    return m


def suspect_pairs(
    counts: Mapping[tuple[str, str], tuple[int, int]],
    confusion: Mapping[str, np.ndarray],
    priors: np.ndarray,
    *,
    alpha: float = ALPHA,
    min_shared: int = MIN_SHARED,
    min_excess: float = MIN_EXCESS,
    held_out: Mapping[tuple[str, str], float] | None = None,
) -> list[SuspectPair]:
    """The pairs whose agreement their skill cannot explain, most suspect first. The expected
    agreement of a pair is `held_out`'s (held_out_agreement) where given (QA's refit gives it for
    every pair tested), else their fitted confusion matrices'."""
    held_out = held_out or {}
    candidates = [
        (
            pair,
            n,
            k,
            held_out[pair] if pair in held_out else expected_agreement(confusion[pair[0]], confusion[pair[1]], priors),
        )
        for pair, (n, k) in counts.items()
        if n >= min_shared and pair[0] in confusion and pair[1] in confusion
    ]
    return _flagged(candidates, alpha, min_excess)


def _flagged(
    candidates: list[tuple[tuple[str, str], int, int, float]], alpha: float, min_excess: float
) -> list[SuspectPair]:
    """(pair, shared, agreed, expected agreement) -> the suspect pairs, most suspect first: a
    binomial tail below alpha over Tarone's count, with the excess at least `min_excess`."""
    # A pair can be flagged at best by agreeing on all n items: tail E^n, excess 1 - E.
    possible = [c for c in candidates if 1.0 - c[3] >= min_excess]
    threshold = alpha / tarone_count([expected**n for _, n, _, expected in possible], alpha)
    out = []
    for pair, n, k, expected in possible:
        if expected**n > threshold or k / n - expected < min_excess:
            continue
        p_value = float(binom.sf(k - 1, n, expected))
        if p_value < threshold:
            out.append(SuspectPair(pair, n, k, expected, p_value))
    return sorted(out, key=lambda s: s.p_value)


def suspects(
    labels: list[tuple[str, str, int]], confusion: Mapping[str, np.ndarray], priors: np.ndarray
) -> list[SuspectPair]:
    """The whole test on one fit: (item, expert, label) judgments, its matrices and class priors."""
    counts = pair_counts(labels)
    candidates = [pair for pair, (n, _) in counts.items() if n >= MIN_SHARED]
    reference = labels_without_each(labels, confusion, priors)
    held_out = held_out_agreement(labels, reference, candidates, len(priors))
    return suspect_pairs(counts, confusion, priors, held_out=held_out)


def labels_without_each(
    labels: Iterable[tuple[str, str, int]], confusion: Mapping[str, np.ndarray], priors: np.ndarray
) -> dict[str, dict[str, int]]:
    """item -> expert -> the item's most probable class given the *other* judges' labels (the
    fit's matrices and class priors); no entry where nobody else the fit knows judged the item.

    The fit's own label of an item counts the expert's vote, weighted by a matrix the fit may have
    inflated: a colluding pair outvotes the honest judge on its shared items, looks accurate, and
    then carries the label of the items each judged apart too. Measured against those labels a
    coin-tossing pair looked 0.8 accurate and was flagged only at 21 of 21 shared items."""
    by_item = _first_labels(labels)
    log_priors = np.log(priors)
    out: dict[str, dict[str, int]] = {}
    for item, judged in by_item.items():
        if len(judged) < 2:
            continue
        # log P(label | class) of each judge whose matrix the fit has: the matrix's column.
        votes = {e: np.log(confusion[e].T[label]) for e, label in judged.items() if e in confusion}
        total = log_priors + sum(votes.values(), np.zeros_like(log_priors))
        # Only where someone else with a matrix judged the item: the priors alone are no reference.
        out[item] = {
            e: int(np.argmax(total - votes[e] if e in votes else total))
            for e in judged
            if len(votes) - (e in votes) >= 1
        }
    return out


IDENTICAL_FLOOR = 0.2


def identical_suspects(
    answers: Iterable[tuple[str, str, Hashable]],
    *,
    alpha: float = ALPHA,
    min_shared: int = MIN_SHARED,
    min_excess: float = MIN_EXCESS,
    floor: float = IDENTICAL_FLOOR,
) -> list[SuspectPair]:
    """Pairs who give identical answers (rubric grades: the same score on every criterion) far
    more often than the project's other pairs do. Ordinal grades have no confusion model to
    predict agreement from (two honest graders miss the truth in the same direction), so the null
    is empirical: the identical share over every other pair's shared items, at its upper 99 %
    credible bound, never below `floor`. Tarone's count over the pairs that could be flagged,
    as for categorical answers. (item, expert, answer) in; the answer is any hashable value."""
    counts = pair_counts(answers)
    total_n = sum(n for n, _ in counts.values())
    total_k = sum(k for _, k in counts.values())
    candidates = []
    for pair, (n, k) in counts.items():
        if n >= min_shared:
            others_n, others_k = total_n - n, total_k - k
            rate = max(floor, float(beta.ppf(0.99, others_k + 1, others_n - others_k + 1)))
            candidates.append((pair, n, k, rate))
    return _flagged(candidates, alpha, min_excess)
