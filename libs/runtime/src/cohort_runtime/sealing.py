"""Secrets kept at rest that a service must read back (a webhook's signing secret, which signs
every delivery; an expert's bank details, which go into payment files), so they cannot be hashed
like an API key.

Sealed with AES-256-GCM under a key derived (HKDF-SHA256) from a master key held in the
environment and the purpose, so one master key can serve several purposes without one sealed value
opening as another's. Each value is bound to what it belongs to (associated data: the row's id): a
sealed value copied into another row, or altered, fails to open. A database dump alone reveals
nothing. `seal`/`open` give text (`sealed:v1:` + base64) for text columns; `encrypt`/`decrypt`
give bytes (nonce + ciphertext) for bytea ones.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:v1:"
MIN_MASTER_KEY_CHARS = 32
_NONCE_BYTES = 12


class UnsealError(Exception):
    """A sealed value that does not open: altered, moved to another row, or sealed under another key."""


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class SecretBox:
    def __init__(self, master_key: str, purpose: str, *, hkdf_info: bytes | None = None) -> None:
        """`hkdf_info` replaces the derivation's label: only for keys derived before this module
        (payout's payee key, label b"cohort-payee-v2"), whose sealed values must still open."""
        if len(master_key) < MIN_MASTER_KEY_CHARS:
            raise ValueError(f"a sealing master key needs at least {MIN_MASTER_KEY_CHARS} characters")
        info = hkdf_info if hkdf_info is not None else f"cohort-seal:{purpose}".encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key.encode())
        self._aead = AESGCM(key)

    def encrypt(self, clear: bytes, bound_to: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, clear, bound_to)

    def decrypt(self, body: bytes, bound_to: bytes) -> bytes:
        try:
            return self._aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], bound_to)
        except (InvalidTag, ValueError) as exc:
            raise UnsealError("the sealed value fails its integrity check") from exc

    def seal(self, clear: str, bound_to: str) -> str:
        return PREFIX + base64.urlsafe_b64encode(self.encrypt(clear.encode(), bound_to.encode())).decode()

    def open(self, sealed: str, bound_to: str) -> str:
        if not is_sealed(sealed):
            raise UnsealError("not a sealed value")
        try:
            body = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
        except (binascii.Error, ValueError) as exc:
            raise UnsealError("the sealed value fails its integrity check") from exc
        return self.decrypt(body, bound_to.encode()).decode()
