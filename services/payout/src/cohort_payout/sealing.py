"""Sealing of payees' bank details at rest: the key is COHORT_PAYOUT_PAYEE_KEY; only the expert id,
country, currency and update time are stored in clear (see `cohort_payout.db.payees`).

Sealed with AES-256-GCM, the expert id as associated data: a database writer who swaps two
experts' blobs gets an integrity failure, not a payment to the wrong account. Blobs written before
this (Fernet, AES-128-CBC + HMAC-SHA256, not bound to the expert) are still read, and sealed anew
the next time the payee is set.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from cohort_payout.domain.payees import Payee
from cohort_runtime.domain_errors import StateConflict
from cohort_runtime.sealing import SecretBox, UnsealError

_V2 = b"v2:"


class Sealer:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        # The runtime's sealing, under the label this key has always been derived with.
        self._box = SecretBox(key, "payee", hkdf_info=b"cohort-payee-v2")

    def seal(self, payee: Payee) -> bytes:
        clear = json.dumps({"iban": payee.iban, "bic": payee.bic, "holder": payee.account_holder})
        return _V2 + self._box.encrypt(clear.encode(), payee.expert_id.encode())

    def open(self, expert_id: str, country: str, currency: str, sealed: bytes) -> Payee:
        try:
            if sealed.startswith(_V2):
                clear = json.loads(self._box.decrypt(sealed[len(_V2) :], expert_id.encode()))
            else:
                clear = json.loads(self._fernet.decrypt(sealed))
        except (InvalidToken, UnsealError):
            raise StateConflict(
                f"the bank details stored for {expert_id} fail their integrity check (another expert's, "
                "altered, or sealed under another key); set the payee again",
                f"payees/{expert_id}",
                "INTEGRITY",
            ) from None
        return Payee(expert_id, clear["iban"], clear["bic"], clear["holder"], country, currency)
