"""Validation of a new lab, with no I/O."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_intake.domain.labs import MAX_DISPLAY_NAME, NewLab
from cohort_runtime.domain_errors import InvalidInput


def test_valid_lab_is_trimmed():
    rid = str(uuid.uuid4())
    lab = NewLab.parse(rid, "  Lab  ")
    assert (str(lab.request_id), lab.display_name) == (rid, "Lab")


def test_all_violations_are_reported_together():
    with pytest.raises(InvalidInput) as err:
        NewLab.parse("nope", "")
    assert [v.field for v in err.value.violations] == ["request_id", "display_name"]


@given(st.text(max_size=400))
def test_any_name_is_accepted_or_rejected_with_a_display_name_violation(name):
    try:
        lab = NewLab.parse(str(uuid.uuid4()), name)
    except InvalidInput as err:
        assert [v.field for v in err.violations] == ["display_name"]
    else:
        assert 1 <= len(lab.display_name) <= MAX_DISPLAY_NAME
        assert lab.display_name == lab.display_name.strip()


def test_fingerprint_distinguishes_bodies():
    rid = str(uuid.uuid4())
    assert NewLab.parse(rid, "A").fingerprint() != NewLab.parse(rid, "B").fingerprint()
