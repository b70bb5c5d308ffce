"""JSON Lines records in the shapes training stacks ingest, with provenance, no I/O."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_intake.domain.items import (
    AdversarialResult,
    FinalizedItem,
    PreferenceResult,
    Quality,
    RubricGradeResult,
    SftResult,
    TrajectoryResult,
    TrajectoryStep,
    UnrenderableItem,
    render,
)
from cohort_intake.domain.tasks import Candidate, ChatMessage, TaskInput


def finalized(result) -> FinalizedItem:
    return FinalizedItem(
        item_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        task_id="t1",
        result=result,
        quality=Quality(0.7, 0.9, (4.0,)),
        expert_ids=("exp_1", "exp_2"),
        instructions_version=3,
        rubric_version=2,
        finalize_time=dt.datetime.now(dt.UTC),
    )


def lines(item, task) -> list[dict]:
    return [json.loads(line) for line in render(item, task).split("\n")]


def test_sft_is_a_chat_with_the_ideal_answer_last():
    task = TaskInput(conversation=(ChatMessage("system", "be precise"), ChatMessage("user", "2+2?")))
    (rec,) = lines(finalized(SftResult("4", reasoning="add")), task)
    assert rec["messages"] == [
        {"role": "system", "content": "be precise"},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    assert rec["reasoning"] == "add"
    assert rec["metadata"]["expert_ids"] == ["exp_1", "exp_2"]
    assert (rec["metadata"]["instructions_version"], rec["metadata"]["rubric_version"]) == (3, 2)


@given(st.permutations(["a", "b", "c", "d"]))
def test_a_ranking_expands_to_every_ordered_pair(ranking):
    task = TaskInput(prompt="p", candidates=tuple(Candidate(c, c.upper()) for c in "abcd"))
    recs = lines(finalized(PreferenceResult(tuple(ranking))), task)
    assert len(recs) == 6
    position = {c.upper(): i for i, c in enumerate(ranking)}
    assert all(position[r["chosen"]] < position[r["rejected"]] for r in recs)
    assert {frozenset((r["chosen"], r["rejected"])) for r in recs} == {
        frozenset(p) for p in [("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("B", "D"), ("C", "D")]
    }


def test_a_ranking_of_other_candidates_is_refused():
    task = TaskInput(prompt="p", candidates=(Candidate("a", "A"), Candidate("b", "B")))
    with pytest.raises(UnrenderableItem):
        render(finalized(PreferenceResult(("a", "z"))), task)


def test_trajectory_uses_tool_calls_and_tool_messages():
    steps = (
        TrajectoryStep("thought", "look it up"),
        TrajectoryStep("action", "", "search", '{"q": "boiling point of ethanol"}'),
        TrajectoryStep("observation", "78.37 C"),
    )
    (rec,) = lines(finalized(TrajectoryResult(steps, "78.4 C")), TaskInput(prompt="bp of ethanol?"))
    user, call, tool, final = rec["messages"]
    assert user == {"role": "user", "content": "bp of ethanol?"}
    assert call["tool_calls"][0]["function"] == {
        "name": "search",
        "arguments": '{"q": "boiling point of ethanol"}',
    }
    assert call["content"] == "look it up"
    assert tool == {"role": "tool", "tool_call_id": call["tool_calls"][0]["id"], "content": "78.37 C"}
    assert final == {"role": "assistant", "content": "78.4 C"}


def test_rubric_grade_and_adversarial_shapes():
    (grade,) = lines(
        finalized(RubricGradeResult((("accuracy", 4.5), ("style", 2.0)), 3.6)),
        TaskInput(prompt="q", candidates=(Candidate("m", "model answer"),)),
    )
    assert (grade["prompt"], grade["response"], grade["scores"], grade["overall"]) == (
        "q",
        "model answer",
        {"accuracy": 4.5, "style": 2.0},
        3.6,
    )
    (adv,) = lines(finalized(AdversarialResult("trick", "truth", "hallucinates")), TaskInput(prompt="seed"))
    assert {k: adv[k] for k in ("prompt", "reference", "failure")} == {
        "prompt": "trick",
        "reference": "truth",
        "failure": "hallucinates",
    }
