"""Per-lab expert pseudonyms: stable for a lab, different across labs and keys, never the id."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from cohort_runtime.pseudonyms import LabView, lab_pseudonym

KEY = b"k" * 32


@given(st.uuids(), st.uuids(), st.from_regex(r"exp_[a-z0-9]{12}", fullmatch=True))
def test_stable_per_lab_and_unlinkable_across_labs(lab_a, lab_b, expert):
    a = lab_pseudonym(KEY, lab_a, expert)
    assert a == lab_pseudonym(KEY, lab_a, expert)
    assert re.fullmatch(r"xp_[a-z2-7]{26}", a) and expert not in a
    if lab_a != lab_b:
        assert a != lab_pseudonym(KEY, lab_b, expert)
    assert a != lab_pseudonym(b"other key", lab_a, expert)


def test_without_a_key_labs_see_no_ids():
    assert LabView(None).of("lab", ["exp_1", "exp_2"]) == ()
    assert LabView(None).pairs("lab", ["exp_1"]) == []
    assert LabView(KEY).of("lab", ["exp_1"]) == (lab_pseudonym(KEY, "lab", "exp_1"),)


def test_an_empty_key_is_no_key(monkeypatch):
    from cohort_runtime.settings import ServiceSettings

    monkeypatch.setenv("COHORT_PSEUDONYM_KEY", "")
    monkeypatch.setenv("COHORT_DATABASE_URL", "postgresql://unused")
    settings = ServiceSettings(service_name="x", db_schema="x", migrations_dir=".")  # type: ignore[call-arg]
    assert settings.pseudonym_key_bytes() is None
