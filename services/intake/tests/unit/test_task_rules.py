"""Task validation and event splitting, with no I/O."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from cohort_intake.domain.spec import DataKind, RubricCriterion
from cohort_intake.domain.tasks import Candidate, GoldReference, NewTask, TaskInput, validate_batch
from cohort_intake.events.task_events import MAX_EVENT_BYTES, gold_references_added, tasks_added

RUBRIC = (RubricCriterion("accuracy", "", 0.5, 1, 5), RubricCriterion("style", "", 0.5, 0, 3))


def fields(tasks, kind=DataKind.SFT_DEMONSTRATION):
    return {v.field for v in validate_batch(tasks, kind, RUBRIC)}


def test_candidates_per_kind():
    two = (Candidate("a", "x"), Candidate("b", "y"))
    assert fields([NewTask("t", TaskInput(prompt="p", candidates=two))], DataKind.PREFERENCE) == set()
    assert fields([NewTask("t", TaskInput(prompt="p", candidates=two))], DataKind.RUBRIC_GRADE) == {
        "tasks[0].input.candidates"
    }
    assert fields([NewTask("t", TaskInput(prompt="p", candidates=two[:1]))], DataKind.RUBRIC_GRADE) == set()
    assert fields([NewTask("t", TaskInput(prompt="p", candidates=two))]) == {"tasks[0].input.candidates"}


def test_rubric_gold_must_score_every_criterion_within_its_scale():
    one = (Candidate("a", "x"),)

    def task(scores):
        return NewTask("t", TaskInput(prompt="p", candidates=one), GoldReference(criterion_scores=scores))

    assert fields([task((("accuracy", 5), ("style", 0)))], DataKind.RUBRIC_GRADE) == set()
    assert fields([task((("accuracy", 5),))], DataKind.RUBRIC_GRADE) == {"tasks[0].gold.criterion_scores"}
    assert fields([task((("accuracy", 6), ("style", 0)))], DataKind.RUBRIC_GRADE) == {
        "tasks[0].gold.criterion_scores[accuracy]"
    }


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=5))
def test_preference_gold_is_a_permutation_of_the_candidates(ranking):
    cands = (Candidate("a", "1"), Candidate("b", "2"), Candidate("c", "3"))
    task = NewTask("t", TaskInput(prompt="p", candidates=cands), GoldReference(ranking=tuple(ranking)))
    ok = sorted(ranking) == ["a", "b", "c"]
    assert (fields([task], DataKind.PREFERENCE) == set()) is ok


def test_content_hash_ignores_nothing_that_matters():
    a = NewTask("t", TaskInput(prompt="p", metadata=(("k", "v"),)))
    assert a.content_hash() == NewTask("t", TaskInput(prompt="p", metadata=(("k", "v"),))).content_hash()
    assert a.content_hash() != NewTask("t", TaskInput(prompt="p", metadata=(("k", "w"),))).content_hash()
    assert a.content_hash() != NewTask("t", TaskInput(prompt="p"), GoldReference(text="x")).content_hash()


def test_big_batches_split_into_events_under_the_size_budget():
    big = "x" * 40_000
    tasks = [NewTask(f"t{i}", TaskInput(prompt=big), GoldReference(text=big)) for i in range(100)]
    added = list(tasks_added(uuid.uuid4(), tasks))
    gold = list(gold_references_added(uuid.uuid4(), tasks))
    assert len(added) > 1 and len(gold) > 1
    assert all(e.ByteSize() <= MAX_EVENT_BYTES for e in added + gold)
    assert [t.task_id for e in added for t in e.tasks] == [t.task_id for t in tasks]
    assert [r.task_id for e in gold for r in e.references] == [t.task_id for t in tasks]


def test_a_screening_task_needs_its_gold_and_hashes_apart():
    two = (Candidate("a", "x"), Candidate("b", "y"))
    bare = NewTask("s1", TaskInput(prompt="p", candidates=two), screening=True)
    assert fields([bare], DataKind.PREFERENCE) == {"tasks[0].gold"}
    gold = GoldReference(ranking=("a", "b"))
    screening = NewTask("s1", TaskInput(prompt="p", candidates=two), gold, screening=True)
    assert fields([screening], DataKind.PREFERENCE) == set()
    # Re-adding the same id as an ordinary gold task is other content, not a no-op.
    plain = NewTask("s1", TaskInput(prompt="p", candidates=two), gold)
    assert plain.content_hash() != screening.content_hash()
    assert [t.is_screening for t in next(tasks_added(uuid.uuid4(), [screening, plain])).tasks] == [True, False]
