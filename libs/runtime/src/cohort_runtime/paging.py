"""AIP-158 page tokens: opaque to callers, a keyset position plus the query they belong to.

A token from one query is refused for another (a different filter or parent), and a token that
was tampered with is refused, both as INVALID_ARGUMENT on `page_token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import Any

from cohort_runtime.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument([FieldViolation("page_size", "must be >= 0")])
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _query_id(query: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode(position: list[Any], query: dict[str, Any]) -> str:
    raw = json.dumps({"p": position, "q": _query_id(query)}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, query: dict[str, Any], field: str = "page_token") -> list[Any] | None:
    """The position in `token`, or None for the first page; errors name `field`."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        position, query_id = data["p"], data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidArgument([FieldViolation(field, "is not a token this service issued")]) from None
    if query_id != _query_id(query) or not isinstance(position, list):
        raise InvalidArgument(
            [FieldViolation(field, "belongs to a different query; repeat the other fields unchanged")]
        )
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
    except (ValueError, TypeError):
        raise InvalidArgument([FieldViolation(field, "is not a token this service issued")]) from None
