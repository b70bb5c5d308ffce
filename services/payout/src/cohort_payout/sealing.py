"""Sealing of payees' bank details at rest: the key is COHORT_PAYOUT_PAYEE_KEY; only the expert id,
country, currency and update time are stored in clear (see `cohort_payout.db.payees`).

Sealed with AES-256-GCM, the expert id as associated data: a database writer who swaps two
experts' blobs gets an integrity failure, not a payment to the wrong account. Blobs written before
this (Fernet, AES-128-CBC + HMAC-SHA256, not bound to the expert) are still read, and sealed anew
the next time the payee is set.
"""

from __future__ import annotations

import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cohort_payout.domain.payees import Payee
from cohort_runtime.domain_errors import StateConflict

_V2 = b"v2:"


class Sealer:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cohort-payee-v2").derive(key.encode())
        self._aead = AESGCM(derived)

    def seal(self, payee: Payee) -> bytes:
        clear = json.dumps({"iban": payee.iban, "bic": payee.bic, "holder": payee.account_holder})
        nonce = os.urandom(12)
        return _V2 + nonce + self._aead.encrypt(nonce, clear.encode(), payee.expert_id.encode())

    def open(self, expert_id: str, country: str, currency: str, sealed: bytes) -> Payee:
        try:
            if sealed.startswith(_V2):
                body = sealed[len(_V2) :]
                clear = json.loads(self._aead.decrypt(body[:12], body[12:], expert_id.encode()))
            else:
                clear = json.loads(self._fernet.decrypt(sealed))
        except (InvalidToken, InvalidTag):
            raise StateConflict(
                f"the bank details stored for {expert_id} fail their integrity check (another expert's, "
                "altered, or sealed under another key); set the payee again",
                f"payees/{expert_id}",
                "INTEGRITY",
            ) from None
        return Payee(expert_id, clear["iban"], clear["bic"], clear["holder"], country, currency)
