"""Parsing request fields that every service receives, with a field violation when they are bad."""

from __future__ import annotations

import uuid

from cohort_runtime.errors import FieldViolation, InvalidArgument


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument([FieldViolation(field, "must be a UUID")]) from None
