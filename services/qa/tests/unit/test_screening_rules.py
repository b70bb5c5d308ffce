"""Scoring screening answers and deciding a test, with no I/O."""

from __future__ import annotations

import dataclasses
import uuid

from hypothesis import given
from hypothesis import strategies as st

from cohort_qa.domain import screening
from cohort_qa.domain.gold import GoldReference
from cohort_qa.domain.projects import Criterion, DataKind, QaProject
from cohort_qa.domain.work import Answer

PROJECT = QaProject(
    project_id=uuid.uuid4(),
    lab_id=uuid.uuid4(),
    kind=DataKind.PREFERENCE,
    domain="law",
    overlap=3,
    max_overlap=3,
    review_sample_rate=0.0,
    minimum_quality=0.7,
    criteria=(Criterion("accuracy", 1.0, 1, 5),),
    screening_tasks=5,
    screening_pass_share=0.8,
)


def test_an_answer_is_right_when_its_first_choice_is_the_references():
    ref = GoldReference(ranking=("b", "a"))
    assert screening.is_right(Answer(DataKind.PREFERENCE, ranking=("b", "a")), ref, PROJECT)
    assert not screening.is_right(Answer(DataKind.PREFERENCE, ranking=("a", "b")), ref, PROJECT)
    assert not screening.is_right(None, ref, PROJECT), "an empty payload is wrong"
    free_text = GoldReference(text="the answer is b")
    assert not screening.is_right(Answer(DataKind.PREFERENCE, ranking=("b", "a")), free_text, PROJECT), (
        "what gold cannot score alone does not count as right"
    )


def test_decided_only_once_enough_answers_are_in():
    assert screening.decide(PROJECT, "exp_a", 4, 4) is None
    passed = screening.decide(PROJECT, "exp_a", 4, 5)
    assert passed is not None and passed.passed, "4 of 5 meets a 0.8 share"
    failed = screening.decide(PROJECT, "exp_b", 3, 5)
    assert failed is not None and not failed.passed
    assert screening.decide(dataclasses.replace(PROJECT, screening_tasks=0), "exp_a", 5, 5) is None


@given(st.integers(1, 50), st.data())
def test_pass_means_at_least_the_share(answered: int, data: st.DataObject) -> None:
    right = data.draw(st.integers(0, answered))
    share = data.draw(st.sampled_from([0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0]))
    project = dataclasses.replace(PROJECT, screening_tasks=answered, screening_pass_share=share)
    result = screening.decide(project, "exp_x", right, answered)
    assert result is not None
    assert result.passed == (right * 100 >= round(share * 100) * answered)
