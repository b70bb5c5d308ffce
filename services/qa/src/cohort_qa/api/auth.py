"""Who is calling QA, by token: reviewers (experts with the reviewer role), experts, operators,
and labs (their own projects only; intake exchanges a lab's API key for a lab token with the lab id
as subject)."""

from __future__ import annotations

import uuid

from cohort_runtime import NotFound, PermissionDenied, Principal, current_principal

REVIEWER_ROLE = "reviewer"


def require_reviewer() -> str:
    principal = current_principal()
    if principal.kind == "expert" and REVIEWER_ROLE in principal.roles:
        return principal.subject
    raise PermissionDenied("this call needs an expert token with the reviewer role")


def require_lab_or_operator() -> Principal:
    """Checked before a project is looked up, so an expert's answer is the same whether the
    project exists or not."""
    principal = current_principal()
    if principal.kind not in ("operator", "lab"):
        raise PermissionDenied("only the project's lab or an operator may read its quality")
    return principal


def require_project_reader(reader: Principal, lab_id: uuid.UUID, project_id: str) -> None:
    """After `require_lab_or_operator`: a lab reads only its own projects."""
    if reader.kind == "lab" and reader.subject != str(lab_id):
        raise NotFound("project", project_id)  # another lab's project: not even its existence leaks


def require_self_or_operator(expert_id: str) -> Principal:
    principal = current_principal()
    if principal.kind == "operator" or (principal.kind == "expert" and principal.subject == expert_id):
        return principal
    raise PermissionDenied("an expert may read only their own quality")
