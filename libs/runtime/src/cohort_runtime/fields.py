"""Request fields every service parses (with a field violation when they are bad), and the
response fields every service builds."""

from __future__ import annotations

import datetime as dt
import uuid

from google.protobuf.timestamp_pb2 import Timestamp

from cohort_runtime.errors import FieldViolation, InvalidArgument


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument([FieldViolation(field, "must be a UUID")]) from None


def timestamp(value: dt.datetime) -> Timestamp:
    """A response's google.protobuf.Timestamp from an aware datetime."""
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts
