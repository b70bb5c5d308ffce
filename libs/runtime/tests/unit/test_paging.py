"""Page tokens are signed: forged, altered or foreign tokens are INVALID_ARGUMENT, never INTERNAL."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_runtime import paging
from cohort_runtime.errors import InvalidArgument

QUERY = {"lab": "l1", "state": 2}


@pytest.fixture(autouse=True)
def _secret():
    paging.use_secret("test-secret")


def _forge(position: list) -> str:
    raw = json.dumps({"p": json.dumps(position), "s": "0" * 32})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_token_round_trips_for_its_own_query():
    now = dt.datetime.now(dt.UTC)
    ident = uuid.uuid4()
    token = paging.encode([now.isoformat(), str(ident)], QUERY)
    assert paging.decode_keyset(token, QUERY, dt.datetime.fromisoformat, uuid.UUID) == (now, ident)


def test_another_querys_token_and_another_secrets_token_are_refused():
    token = paging.encode([5], QUERY)
    with pytest.raises(InvalidArgument):
        paging.decode(token, {**QUERY, "lab": "l2"})
    paging.use_secret("another-secret")
    with pytest.raises(InvalidArgument):
        paging.decode(token, QUERY)


def test_no_secret_keeps_the_process_key():
    token = paging.encode([5], QUERY)
    paging.use_secret(None)
    assert paging.decode(token, QUERY) == [5]


@pytest.mark.parametrize("position", [[10**400], ["9999-99-99T00:00:00", "x"], [[1] * 3], [1e308 * 10]])
def test_forged_positions_are_refused_before_parsing(position):
    with pytest.raises(InvalidArgument) as refused:
        paging.decode_keyset(_forge(position), QUERY, dt.datetime.fromisoformat, uuid.UUID)
    assert refused.value.violations[0].field == "page_token"


def test_a_signed_position_that_does_not_parse_is_invalid_argument():
    token = paging.encode([10**30], QUERY)  # e.g. an old build's position format
    with pytest.raises(InvalidArgument):
        paging.decode_keyset(token, QUERY, lambda v: dt.datetime.fromtimestamp(v, dt.UTC))


@given(st.text(max_size=200))
def test_any_string_is_a_valid_token_or_invalid_argument(token):
    with contextlib.suppress(InvalidArgument):
        paging.decode_keyset(token, QUERY, int)
