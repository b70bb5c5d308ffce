"""Parsing identifiers from requests, with a field violation for each bad one."""

from __future__ import annotations

import uuid

from cohort_intake.domain.errors import InvalidInput, Violation


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput([Violation(field, "must be a UUID")]) from None
