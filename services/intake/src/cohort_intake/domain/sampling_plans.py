"""Acceptance sampling of a delivered lot: ISO 2859-1 single sampling plans for normal inspection
(Table 2-A, identical to ANSI/ASQ Z1.4 and MIL-STD-105E Table II-A) at general inspection level II
(Table 1), for nonconforming items with an acceptance quality limit (AQL) of 0.010 to 10 %.

How Table 2-A is built, and so how it is computed here rather than transcribed: its rows are the
sample size code letters A..R (sample sizes 2..2000, each step about x1.6) and its columns the
AQLs (each step about x1.6), so each diagonal (letter index + AQL index) holds one plan. The
diagonal through letter Q at AQL 0.010 (n x AQL ~ 0.125) has Ac 0; the next has an arrow up (use
the first plan above in the column), the next an arrow down (the first plan below); then the
diagonals hold Ac 1, 2, 3, 5, 7, 10, 14 and 21; beyond the last an arrow up again, and before the
first an arrow down. Re is Ac + 1 throughout. Where an arrow moves to another row, that row's
sample size is used; where the sample size reaches the lot size, every item is inspected.
Two readings of ours: an arrow up in the first row (A, at AQL 10) has no plan above it, so the
first plan below is used; and when the whole lot is inspected, Ac is kept below the lot size.
"""

from __future__ import annotations

from dataclasses import dataclass

from cohort_runtime.domain_errors import InvalidInput, Violation

# Table 1, general inspection level II: (largest lot size, code letter).
_LETTERS_BY_LOT = (
    (8, "A"), (15, "B"), (25, "C"), (50, "D"), (90, "E"), (150, "F"), (280, "G"), (500, "H"),
    (1200, "J"), (3200, "K"), (10_000, "L"), (35_000, "M"), (150_000, "N"), (500_000, "P"),
)  # fmt: skip
_LAST_LETTER = "Q"
LETTERS = "ABCDEFGHJKLMNPQR"
SAMPLE_SIZES = (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000)
AQLS = (0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0, 6.5, 10.0)

_FIRST_AC0_DIAGONAL = 14  # letter Q (index 14) at AQL 0.010 (index 0)
_UP, _DOWN = "up", "down"
# Along the diagonals from the first Ac 0 one: a plan's Ac, or where its arrow points.
_DIAGONALS: tuple[int | str, ...] = (0, _UP, _DOWN, 1, 2, 3, 5, 7, 10, 14, 21)


@dataclass(frozen=True)
class SamplingPlan:
    lot_size: int
    aql_percent: float
    code_letter: str  # the letter of the lot size; the plan used may sit in another row (arrows)
    sample_size: int
    acceptance_number: int  # Ac: accept the lot with at most this many nonconforming items
    rejection_number: int  # Re: reject it with this many or more

    @property
    def full_inspection(self) -> bool:
        return self.sample_size >= self.lot_size


def code_letter(lot_size: int) -> str:
    for largest, letter in _LETTERS_BY_LOT:
        if lot_size <= largest:
            return letter
    return _LAST_LETTER


def _cell(letter_index: int, aql_index: int) -> int | str:
    diagonal = letter_index + aql_index - _FIRST_AC0_DIAGONAL
    if diagonal < 0:
        return _DOWN
    if diagonal >= len(_DIAGONALS):
        return _UP
    return _DIAGONALS[diagonal]


def plan(lot_size: int, aql_percent: float) -> SamplingPlan:
    """The single sampling plan for a lot of `lot_size` items at `aql_percent` (one of AQLS)."""
    violations = []
    if lot_size < 1:
        violations.append(Violation("lot_size", "must be at least 1"))
    aql_index = next((i for i, a in enumerate(AQLS) if abs(a - aql_percent) < 1e-9), None)
    if aql_index is None:
        allowed = ", ".join(f"{a:g}" for a in AQLS)
        violations.append(Violation("aql_percent", f"must be one of the ISO 2859-1 AQLs: {allowed}"))
    if violations:
        raise InvalidInput(violations)
    assert aql_index is not None  # noqa: S101 - narrowed above, for the type checker
    letter = code_letter(lot_size)
    row = LETTERS.index(letter)
    cell = _cell(row, aql_index)
    while isinstance(cell, str):  # follow the arrow to the first plan above or below
        # An arrow up from the first row (lots of 8 or fewer at AQL 10) has no plan above it; the
        # first plan below serves (at most the whole lot is inspected there anyway).
        row += -1 if cell == _UP and row > 0 else 1
        cell = _cell(row, aql_index)
    sample = min(SAMPLE_SIZES[row], lot_size)
    # A whole small lot inspected against a larger sample's Ac could be accepted with every item
    # wrong (a lot of 1 at AQL 10 has Ac 1): Ac is held below the items inspected.
    accept = min(cell, sample - 1)
    return SamplingPlan(lot_size, AQLS[aql_index], letter, sample, accept, accept + 1)
