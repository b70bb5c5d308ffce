"""Who is calling tasking: experts and operators, by platform token."""

from __future__ import annotations

from cohort_runtime import PermissionDenied, Principal, current_principal


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
