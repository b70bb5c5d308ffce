from cohort_qa.domain.verdicts_shown import ShownState, reasons_for_expert, shown_state


def test_gold_is_never_named_and_review_routing_is_left_out() -> None:
    assert reasons_for_expert(["gold_mismatch"]) == ["quality_check"]
    assert reasons_for_expert(["gold_free_text", "reviewer_rejected"]) == ["reviewer_rejected"]
    assert reasons_for_expert(["sampled", "too_fast", "too_fast"]) == ["too_fast"]
    assert reasons_for_expert([]) == []


def test_waiting_is_pending_to_the_expert() -> None:
    assert shown_state("waiting") is ShownState.PENDING
    assert shown_state("rejected") is ShownState.REJECTED
