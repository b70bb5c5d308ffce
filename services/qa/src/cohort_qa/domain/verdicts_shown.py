"""What an expert is told about QA's decision on their own work.

Gold tasks look exactly like others, and a gold task is shown to many experts: telling one which of
their tasks were controls would let them pass the answer on. So reasons that name gold become one
neutral code, and the reasons that only say why a submission went to review (not why it was
decided) are left out.
"""

from __future__ import annotations

from enum import StrEnum

from cohort_qa.domain.states import SubmissionState

# Why a submission was queued for review; not a finding about the work.
_ROUTING_REASONS = frozenset({"sampled", "gold_free_text", "gold_reference_missing"})
# A finding that would reveal a control task.
_GOLD_FINDINGS = {"gold_mismatch": "quality_check"}


class ShownState(StrEnum):
    PENDING = "pending"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def shown_state(state: str) -> ShownState:
    """QA's internal state ('waiting' while the project is unknown) as the expert sees it."""
    return ShownState.PENDING if state == SubmissionState.WAITING else ShownState(state)


def reasons_for_expert(reasons: list[str] | tuple[str, ...]) -> list[str]:
    shown: list[str] = []
    for reason in reasons:
        if reason in _ROUTING_REASONS:
            continue
        named = _GOLD_FINDINGS.get(reason, reason)
        if named not in shown:
            shown.append(named)
    return shown
