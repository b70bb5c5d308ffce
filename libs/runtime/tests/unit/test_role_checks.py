"""The chassis' role checks: who may call what, decided the same way in every service."""

from __future__ import annotations

import pytest

from cohort_runtime import auth
from cohort_runtime.errors import PermissionDenied, Unauthenticated

LAB = auth.Principal(kind="lab", subject="lab-1")
EXPERT = auth.Principal(kind="expert", subject="exp-1")
REVIEWER = auth.Principal(kind="expert", subject="exp-2", roles=frozenset({"reviewer"}))
OPERATOR = auth.Principal(kind="operator", subject="ops")


@pytest.fixture
def calling():
    tokens = []

    def as_(principal: auth.Principal) -> None:
        tokens.append(auth._current.set(principal))

    yield as_
    for token in reversed(tokens):
        auth._current.reset(token)


def test_no_caller_is_unauthenticated():
    with pytest.raises(Unauthenticated):
        auth.require_operator()


@pytest.mark.parametrize(
    ("check", "allowed"),
    [
        (lambda: auth.require_operator("payout runs"), {"operator"}),
        (lambda: auth.require_expert("reading balances"), {"expert", "reviewer"}),
        (lambda: auth.require_reviewer("reviewing"), {"reviewer"}),
        (lambda: auth.require_self_or_operator("exp-1", "reading quality"), {"expert", "operator"}),
        (lambda: auth.require_lab_scope("reading cost"), {"lab", "operator"}),
    ],
)
def test_each_check_admits_exactly_its_callers(calling, check, allowed):
    for name, principal in {"lab": LAB, "expert": EXPERT, "reviewer": REVIEWER, "operator": OPERATOR}.items():
        calling(principal)
        if name in allowed:
            check()
        else:
            with pytest.raises(PermissionDenied):
                check()


def test_a_lab_scope_covers_its_own_resources_only(calling):
    calling(LAB)
    scope = auth.require_lab_scope()
    assert scope.covers("lab-1") and not scope.covers("lab-2")
    calling(OPERATOR)
    assert auth.require_lab_scope().covers("lab-2")
