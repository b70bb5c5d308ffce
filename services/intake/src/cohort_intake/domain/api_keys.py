"""Lab API keys: random secrets shown once, stored as a SHA-256 hash behind a lookup prefix.

A key reads `ck_<8 hex>_<43 url-safe chars>`: the first part is the public prefix that finds the
row, the whole key hashed must match the stored hash. 256 bits of randomness make a plain SHA-256
safe here (no password-style stretching is needed against guessing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

_KEY = re.compile(r"^(ck_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class ApiKey:
    key_id: uuid.UUID
    lab_id: uuid.UUID
    prefix: str
    display_name: str
    create_time: dt.datetime
    revoke_time: dt.datetime | None


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    secret: str
    secret_hash: bytes


def issue() -> IssuedKey:
    prefix = f"ck_{secrets.token_hex(4)}"
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedKey(prefix=prefix, secret=secret, secret_hash=hash_secret(secret))


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def prefix_of(credential: str) -> str | None:
    """The lookup prefix of a well-formed key, or None for anything else."""
    match = _KEY.match(credential)
    return match.group(1) if match else None


def matches(credential: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(credential), stored_hash)
