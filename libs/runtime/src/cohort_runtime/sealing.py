"""Secrets kept at rest that the service must read back (a webhook's signing secret, which signs
every delivery, so it cannot be stored as a hash like an API key).

Sealed with AES-256-GCM under a key derived (HKDF-SHA256) from a master key held in the
environment and the purpose, so one master key can serve several purposes without one sealed value
opening as another's. Each value is bound to the row it belongs to (associated data): a sealed
value copied into another row, or altered, fails to open. A database dump alone reveals nothing.
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
    def __init__(self, master_key: str, purpose: str) -> None:
        if len(master_key) < MIN_MASTER_KEY_CHARS:
            raise ValueError(f"a sealing master key needs at least {MIN_MASTER_KEY_CHARS} characters")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"cohort-seal:{purpose}".encode()).derive(
            master_key.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, clear: str, bound_to: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        body = nonce + self._aead.encrypt(nonce, clear.encode(), bound_to.encode())
        return PREFIX + base64.urlsafe_b64encode(body).decode()

    def open(self, sealed: str, bound_to: str) -> str:
        if not is_sealed(sealed):
            raise UnsealError("not a sealed value")
        try:
            body = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
            return self._aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], bound_to.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise UnsealError("the sealed value fails its integrity check") from exc
