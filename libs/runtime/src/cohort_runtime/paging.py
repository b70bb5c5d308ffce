"""AIP-158 page tokens: opaque to callers, a keyset position plus the query they belong to.

Tokens are signed with HMAC-SHA256 under the platform's page-token secret (COHORT_PAGE_TOKEN_SECRET,
the same on every replica), over the position and the query: a token from one query is refused
for another (a different filter, parent or caller), and a forged or altered token is refused, both
as INVALID_ARGUMENT on `page_token`, before its position is ever parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from cohort_runtime.errors import FieldViolation, InvalidArgument

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_SIGNATURE_CHARS = 32  # 128 bits of the HMAC, hex

# The process's key; set from the settings when a service starts. Without a configured secret a
# random one serves a single process (its tokens do not survive a restart or cross replicas).
_key: bytes = secrets.token_bytes(32)


def use_secret(secret: str | None) -> None:
    """Sign and verify this process's page tokens with `secret`; None keeps the process's random
    key (not a new one: services sharing a process keep accepting each other's tokens)."""
    global _key  # noqa: PLW0603 - one key per process, set at start-up
    if secret:
        _key = hashlib.sha256(b"cohort-page-token\x00" + secret.encode()).digest()
    else:
        log.warning("no COHORT_PAGE_TOKEN_SECRET: page tokens are valid in this process only")


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument([FieldViolation("page_size", "must be >= 0")])
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _signature(position_json: str, query: dict[str, Any]) -> str:
    message = position_json.encode() + b"\x00" + json.dumps(query, sort_keys=True, default=str).encode()
    return hmac.new(_key, message, hashlib.sha256).hexdigest()[:_SIGNATURE_CHARS]


def encode(position: list[Any], query: dict[str, Any]) -> str:
    position_json = json.dumps(position, separators=(",", ":"), default=str)
    raw = json.dumps({"p": position_json, "s": _signature(position_json, query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, query: dict[str, Any], field: str = "page_token") -> list[Any] | None:
    """The position in `token`, or None for the first page; errors name `field`."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position_json, signature = str(data["p"]), str(data["s"])
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise InvalidArgument([FieldViolation(field, "is not a token this service issued")]) from None
    if not hmac.compare_digest(signature, _signature(position_json, query)):
        # Either forged, or issued for other parameters: the caller cannot tell which, nor can we.
        raise InvalidArgument([FieldViolation(field, "is not valid for this query; repeat the other fields unchanged")])
    position = json.loads(position_json)
    if not isinstance(position, list):
        raise InvalidArgument([FieldViolation(field, "is not a token this service issued")])
    return position


def decode_keyset(
    token: str, query: dict[str, Any], *parsers: Callable[[Any], Any], field: str = "page_token"
) -> tuple[Any, ...] | None:
    """The keyset position in `token`, each part passed through its parser (e.g.
    `datetime.fromisoformat`, `uuid.UUID`, `int`); None for the first page."""
    position = decode(token, query, field)
    if position is None:
        return None
    try:
        # zip(strict=True) raises ValueError when the token has the wrong number of parts.
        return tuple(parse(part) for parse, part in zip(parsers, position, strict=True))
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgument([FieldViolation(field, "is not a token this service issued")]) from None
