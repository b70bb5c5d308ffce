"""Bank details at rest are bound to their expert: a swapped blob fails, it is not paid to."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from cohort_payout.domain.payees import Payee
from cohort_payout.sealing import Sealer
from cohort_runtime.domain_errors import StateConflict

KEY = Fernet.generate_key().decode()


def _payee(expert_id: str, iban: str) -> Payee:
    return Payee(expert_id, iban, "DEUTDEFF", "Ada Lovelace", "DE", "EUR")


def test_a_sealed_payee_opens_for_its_own_expert():
    sealer = Sealer(KEY)
    blob = sealer.seal(_payee("exp_a", "DE89370400440532013000"))
    assert b"DE89" not in blob
    assert sealer.open("exp_a", "DE", "EUR", blob).iban == "DE89370400440532013000"


def test_a_blob_moved_to_another_expert_fails_its_integrity_check():
    sealer = Sealer(KEY)
    alice = sealer.seal(_payee("exp_a", "DE89370400440532013000"))
    with pytest.raises(StateConflict, match="integrity"):
        sealer.open("exp_b", "DE", "EUR", alice)


def test_another_key_and_an_altered_blob_fail_too():
    blob = Sealer(KEY).seal(_payee("exp_a", "DE89370400440532013000"))
    with pytest.raises(StateConflict):
        Sealer(Fernet.generate_key().decode()).open("exp_a", "DE", "EUR", blob)
    with pytest.raises(StateConflict):
        Sealer(KEY).open("exp_a", "DE", "EUR", blob[:-1] + bytes([blob[-1] ^ 1]))


def test_blobs_sealed_before_binding_are_still_read():
    legacy = Fernet(KEY.encode()).encrypt(json.dumps({"iban": "X", "bic": "Y", "holder": "Z"}).encode())
    assert Sealer(KEY).open("exp_a", "DE", "EUR", legacy).account_holder == "Z"


def test_v2_blobs_keep_their_format_and_key_derivation():
    """The runtime's sealing serves payees under the label their key was always derived with: a
    blob in the v2 layout (b"v2:" + nonce + AES-GCM, expert id bound), made here directly with
    that derivation, opens; so every blob stored before still does."""
    import os

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cohort-payee-v2").derive(KEY.encode())
    nonce = os.urandom(12)
    clear = json.dumps({"iban": "DE89370400440532013000", "bic": "Y", "holder": "Z"}).encode()
    blob = b"v2:" + nonce + AESGCM(key).encrypt(nonce, clear, b"exp_a")
    assert Sealer(KEY).open("exp_a", "DE", "EUR", blob).iban == "DE89370400440532013000"
