"""Sealed secrets open only with their key, for their purpose and for the row they were sealed for."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_runtime.sealing import PREFIX, SecretBox, UnsealError, is_sealed

KEY = "k" * 40
BOX = SecretBox(KEY, "webhook-signing-secret")


@given(clear=st.text(max_size=300), bound_to=st.text(min_size=1, max_size=60))
def test_a_sealed_value_opens_to_what_was_sealed_and_shows_none_of_it(clear: str, bound_to: str) -> None:
    sealed = BOX.seal(clear, bound_to)
    assert is_sealed(sealed) and BOX.open(sealed, bound_to) == clear
    if len(clear) >= 8:
        assert clear not in sealed
    assert BOX.seal(clear, bound_to) != sealed, "a fresh nonce each time: equal secrets do not look equal"


@pytest.mark.parametrize(
    ("box", "bound_to"),
    [
        (BOX, "another-endpoint"),  # copied into another row
        (SecretBox("x" * 40, "webhook-signing-secret"), "endpoint-1"),  # another master key
        (SecretBox(KEY, "payee"), "endpoint-1"),  # the same key for another purpose
    ],
)
def test_it_does_not_open_elsewhere(box: SecretBox, bound_to: str) -> None:
    sealed = BOX.seal("whsec_abc", "endpoint-1")
    with pytest.raises(UnsealError):
        box.open(sealed, bound_to)


def test_an_altered_or_foreign_value_is_refused() -> None:
    sealed = BOX.seal("whsec_abc", "endpoint-1")
    body = bytearray(base64.urlsafe_b64decode(sealed[len(PREFIX) :]))
    body[-1] ^= 1
    for bad in (PREFIX + base64.urlsafe_b64encode(bytes(body)).decode(), PREFIX + "not base64!", "whsec_abc", PREFIX):
        with pytest.raises(UnsealError):
            BOX.open(bad, "endpoint-1")


def test_a_short_master_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="32 characters"):
        SecretBox("short", "webhook-signing-secret")
