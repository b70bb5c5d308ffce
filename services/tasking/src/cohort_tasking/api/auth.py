"""Who is calling tasking: experts and operators, by platform token."""

from __future__ import annotations

import uuid

from cohort_runtime import FieldViolation, InvalidArgument, PermissionDenied, Principal, current_principal


def require_expert() -> str:
    principal = current_principal()
    if principal.kind != "expert":
        raise PermissionDenied("this call needs an expert token")
    return principal.subject


def require_operator() -> Principal:
    principal = current_principal()
    if principal.kind != "operator":
        raise PermissionDenied("this call needs an operator token")
    return principal


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument([FieldViolation(field, "must be a UUID")]) from None
