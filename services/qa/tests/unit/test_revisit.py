"""Whether a delivered item stands once some of its experts are suspended (domain/revisit.py)."""

from __future__ import annotations

import dataclasses
import uuid

from hypothesis import given
from hypothesis import strategies as st

from cohort_qa.domain import consensus
from cohort_qa.domain.consensus import ChosenItem, Judgment, PreferenceItem, RubricItem
from cohort_qa.domain.projects import Criterion, DataKind, QaProject
from cohort_qa.domain.revisit import stands
from cohort_qa.domain.work import Answer

CANDIDATES = ("a", "b")


def project(kind: DataKind = DataKind.PREFERENCE, min_confidence: float | None = None) -> QaProject:
    return QaProject(
        project_id=uuid.uuid4(),
        lab_id=uuid.uuid4(),
        kind=kind,
        domain="law",
        overlap=3,
        max_overlap=5,
        review_sample_rate=0.1,
        minimum_quality=0.6,
        criteria=(Criterion("accuracy", 0.5, 1, 5), Criterion("style", 0.5, 1, 5)),
        min_confidence=min_confidence,
    )


def vote(expert: str, choice: str, reliability: float = 0.85, suspended: bool = False) -> Judgment:
    ranking = (choice, *(c for c in CANDIDATES if c != choice))
    return Judgment(
        uuid.uuid4(), expert, Answer(DataKind.PREFERENCE, ranking=ranking), reliability, suspended=suspended
    )


def grade(expert: str, accuracy: int, style: int, suspended: bool = False) -> Judgment:
    answer = Answer(DataKind.RUBRIC_GRADE, scores={"accuracy": accuracy, "style": style})
    return Judgment(uuid.uuid4(), expert, answer, 0.8, suspended=suspended)


def test_an_item_a_suspended_pair_outvoted_the_honest_expert_on_does_not_stand() -> None:
    judgments = [vote("c1", "b", suspended=True), vote("c2", "b", suspended=True), vote("e1", "a")]
    assert not stands(project(), PreferenceItem(("b", "a")), judgments, candidate_ids=CANDIDATES)


def test_an_item_its_other_experts_carry_confidently_stands() -> None:
    judgments = [vote("c1", "a", suspended=True), vote("e1", "a"), vote("e2", "a")]
    assert stands(project(), PreferenceItem(("a", "b")), judgments, candidate_ids=CANDIDATES)


def test_one_honest_vote_is_not_the_consensus_the_project_asked_for() -> None:
    """The pair agreed with the honest expert, but the lab's bar (0.95) was met only with the
    pair's votes: one 0.85 vote alone would have asked for more."""
    judgments = [vote("c1", "a", suspended=True), vote("c2", "a", suspended=True), vote("e1", "a")]
    assert not stands(project(min_confidence=0.95), PreferenceItem(("a", "b")), judgments, candidate_ids=CANDIDATES)
    assert stands(project(min_confidence=0.8), PreferenceItem(("a", "b")), judgments, candidate_ids=CANDIDATES)


def test_a_rubric_item_stands_while_the_others_median_is_within_the_tolerance() -> None:
    rubric = project(DataKind.RUBRIC_GRADE)
    pulled = [grade("flat", 5, 5, suspended=True), grade("twin", 5, 5, suspended=True), grade("h1", 1, 2)]
    assert not stands(rubric, RubricItem({"accuracy": 5, "style": 5}, 5.0), pulled)
    nudged = [grade("flat", 5, 5, suspended=True), grade("h1", 2, 2), grade("h2", 3, 3)]
    assert stands(rubric, RubricItem({"accuracy": 3, "style": 3}, 3.0), nudged), "2.5 is within 1 of 3"


def test_a_chosen_submission_of_a_suspended_expert_does_not_stand() -> None:
    sft = project(DataKind.SFT)
    theirs = Judgment(uuid.uuid4(), "c1", Answer(DataKind.SFT, "x"), 0.9, review_score=0.9, suspended=True)
    other = Judgment(uuid.uuid4(), "e1", Answer(DataKind.SFT, "y"), 0.7)
    assert not stands(sft, ChosenItem(theirs.submission_id), [theirs, other])
    assert stands(sft, ChosenItem(other.submission_id), [theirs, other])
    assert not stands(sft, ChosenItem(theirs.submission_id), [theirs]), "nothing left to deliver"


votes = st.lists(st.tuples(st.sampled_from(CANDIDATES), st.floats(0.55, 0.99), st.booleans()), min_size=1, max_size=5)


@given(votes)
def test_an_item_without_suspended_experts_always_stands(drawn: list[tuple[str, float, bool]]) -> None:
    """Revisiting never reworks an item its experts, all in good standing, delivered: the rule asks
    exactly what finalizing asked."""
    judgments = [vote(f"e{n}", choice, reliability) for n, (choice, reliability, _) in enumerate(drawn)]
    p = project(min_confidence=0.9)
    delivered = consensus.aggregate(p, judgments, candidate_ids=CANDIDATES)
    if not delivered.needs_more:
        assert stands(p, delivered.result, judgments, candidate_ids=CANDIDATES)


@given(votes)
def test_suspended_judgments_change_nothing_but_their_absence(
    drawn: list[tuple[str, float, bool]],
) -> None:
    """Whatever the suspended ones answered, the item stands exactly when the others alone would
    deliver it: adding suspended judgments changes nothing."""
    judgments = [vote(f"e{n}", c, r, suspended=s) for n, (c, r, s) in enumerate(drawn)]
    others = [j for j in judgments if not j.suspended]
    p = project(min_confidence=0.9)
    for delivered in (PreferenceItem(("a", "b")), PreferenceItem(("b", "a"))):
        alone = bool(others) and stands(p, delivered, others, candidate_ids=CANDIDATES)
        assert stands(p, delivered, judgments, candidate_ids=CANDIDATES) == alone
    everyone_suspended = [dataclasses.replace(j, suspended=True) for j in judgments]
    assert not stands(p, PreferenceItem(("a", "b")), everyone_suspended, candidate_ids=CANDIDATES)
