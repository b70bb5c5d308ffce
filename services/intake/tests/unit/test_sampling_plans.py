"""ISO 2859-1 single sampling, normal inspection, level II: cells of Table 1 and Table 2-A as
published (also ANSI/ASQ Z1.4, MIL-STD-105E Table II-A), and the rules around them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_intake.domain.sampling_plans import AQLS, LETTERS, code_letter, plan
from cohort_runtime.domain_errors import InvalidInput


@pytest.mark.parametrize(
    ("lot", "letter"),
    [(2, "A"), (8, "A"), (9, "B"), (15, "B"), (16, "C"), (50, "D"), (51, "E"), (500, "H"), (501, "J"),
     (1200, "J"), (1201, "K"), (10_000, "L"), (35_001, "N"), (500_000, "P"), (500_001, "Q")],
)  # fmt: skip
def test_table_1_code_letters_at_level_ii(lot: int, letter: str) -> None:
    assert code_letter(lot) == letter


@pytest.mark.parametrize(
    ("lot", "aql", "sample", "ac"),
    [
        (1000, 0.65, 80, 1),
        (1000, 1.0, 80, 2),
        (1000, 1.5, 80, 3),
        (1000, 2.5, 80, 5),
        (1000, 4.0, 80, 7),
        (1000, 6.5, 80, 10),
        (1000, 10.0, 80, 14),
        (500, 1.0, 50, 1),
        (100, 2.5, 20, 1),
        (3000, 1.5, 125, 5),
        (10_000, 0.65, 200, 3),
        (200_000, 0.10, 800, 2),
        # Arrows: at J (80) and AQL 0.25 up to H's plan; at AQL 0.40 down to K's.
        (1000, 0.25, 50, 0),
        (1000, 0.40, 125, 1),
        # Bottom right: arrows up to Ac 21 at K (125) for AQL 10.
        (600_000, 10.0, 125, 21),
    ],
)
def test_table_2_a_plans(lot: int, aql: float, sample: int, ac: int) -> None:
    p = plan(lot, aql)
    assert (p.sample_size, p.acceptance_number, p.rejection_number) == (sample, ac, ac + 1)
    assert not p.full_inspection


def test_a_sample_as_large_as_the_lot_means_inspecting_every_item() -> None:
    small = plan(40, 0.010)  # D at 0.010 points down to the Ac 0 plan at Q (1,250)
    assert (small.sample_size, small.acceptance_number, small.full_inspection) == (40, 0, True)
    assert plan(1, 1.0).sample_size == 1


def test_an_aql_off_the_table_or_an_empty_lot_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as err:
        plan(0, 3.0)
    fields = {v.field: v.description for v in err.value.violations}
    assert set(fields) == {"lot_size", "aql_percent"} and "2.5" in fields["aql_percent"]


@given(lot=st.integers(min_value=1, max_value=2_000_000), aql=st.sampled_from(AQLS))
def test_every_plan_is_well_formed(lot: int, aql: float) -> None:
    p = plan(lot, aql)
    assert 1 <= p.sample_size <= lot and p.rejection_number == p.acceptance_number + 1
    assert p.acceptance_number < p.sample_size or p.acceptance_number == 0
    assert p.code_letter in LETTERS
    # A more lenient AQL never asks for a stricter decision on the same sample size.
    looser = [a for a in AQLS if a > aql]
    if looser:
        q = plan(lot, looser[0])
        assert q.acceptance_number / q.sample_size >= p.acceptance_number / p.sample_size - 1e-12
