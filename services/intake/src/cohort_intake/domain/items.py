"""Delivered items and the JSON Lines records labs train on.

Shapes (one JSON object per line):
- SFT demonstration: {"messages": [..., {"role": "assistant", "content": ...}]}
- preference: {"prompt", "chosen", "rejected"}; a ranking of N candidates expands to N(N-1)/2
  ordered pairs (TRL's DPO format; conversational prompts stay message lists)
- trajectory: {"messages": [...]} with assistant tool_calls and tool messages (OpenAI shape)
- rubric grade: {"prompt", "response", "scores", "overall"}
- adversarial prompt: {"prompt", "reference", "failure"}
Every record carries "metadata": project, item and task ids, pseudonymous expert ids, quality
figures, the instructions / rubric versions and the task's revision (with the item a rework
supersedes).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

from cohort_intake.domain.tasks import TaskInput

FORMAT_VERSION = 1


@dataclass(frozen=True)
class SftResult:
    response: str
    reasoning: str = ""


@dataclass(frozen=True)
class PreferenceResult:
    ranking: tuple[str, ...]


@dataclass(frozen=True)
class TrajectoryStep:
    kind: str  # thought | action | observation
    content: str
    tool_name: str = ""
    tool_arguments_json: str = ""


@dataclass(frozen=True)
class TrajectoryResult:
    steps: tuple[TrajectoryStep, ...]
    final_answer: str


@dataclass(frozen=True)
class RubricGradeResult:
    scores: tuple[tuple[str, float], ...]
    overall: float


@dataclass(frozen=True)
class AdversarialResult:
    prompt: str
    reference: str
    failure: str


Result = SftResult | PreferenceResult | TrajectoryResult | RubricGradeResult | AdversarialResult


@dataclass(frozen=True)
class Quality:
    agreement: float
    confidence: float
    reviewer_scores: tuple[float, ...] = ()


@dataclass(frozen=True)
class FinalizedItem:
    item_id: uuid.UUID
    project_id: uuid.UUID
    task_id: str
    result: Result | None
    quality: Quality
    expert_ids: tuple[str, ...]
    instructions_version: int
    rubric_version: int
    finalize_time: dt.datetime
    revision: int = 1
    """1 for first work; 2 and up for rework after an upheld dispute (then `supersedes` is set)."""
    supersedes: uuid.UUID | None = None


class UnrenderableItem(ValueError):
    """The item's result does not fit its task (e.g. a ranking of unknown candidates)."""


def render(item: FinalizedItem, task: TaskInput) -> str:
    """The item's JSON Lines record(s), newline-separated, without a trailing newline."""
    meta = {
        "project_id": str(item.project_id),
        "item_id": str(item.item_id),
        "task_id": item.task_id,
        "expert_ids": list(item.expert_ids),
        "quality": {
            "agreement": item.quality.agreement,
            "confidence": item.quality.confidence,
            "reviewer_scores": list(item.quality.reviewer_scores),
        },
        "instructions_version": item.instructions_version,
        "rubric_version": item.rubric_version,
        "revision": item.revision,
        "format_version": FORMAT_VERSION,
    }
    if item.supersedes is not None:
        meta["supersedes_item_id"] = str(item.supersedes)
    records = [{**body, "metadata": meta} for body in _bodies(item.result, task)]
    return "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records)


def _conversation(task: TaskInput) -> list[dict[str, Any]]:
    if task.conversation is not None:
        return [{"role": m.role, "content": m.content} for m in task.conversation]
    return [{"role": "user", "content": task.prompt or ""}]


def _bodies(result: Result | None, task: TaskInput) -> list[dict[str, Any]]:
    if isinstance(result, SftResult):
        answer: dict[str, Any] = {"role": "assistant", "content": result.response}
        body: dict[str, Any] = {"messages": [*_conversation(task), answer]}
        if result.reasoning:
            body["reasoning"] = result.reasoning
        return [body]
    if isinstance(result, PreferenceResult):
        return _pairs(result, task)
    if isinstance(result, TrajectoryResult):
        return [{"messages": [*_conversation(task), *_trajectory_messages(result)]}]
    if isinstance(result, RubricGradeResult):
        if len(task.candidates) != 1:
            raise UnrenderableItem("a rubric grade needs exactly one candidate response")
        return [
            {
                "prompt": task.prompt if task.prompt is not None else _conversation(task),
                "response": task.candidates[0].content,
                "scores": dict(result.scores),
                "overall": result.overall,
            }
        ]
    if isinstance(result, AdversarialResult):
        return [{"prompt": result.prompt, "reference": result.reference, "failure": result.failure}]
    raise UnrenderableItem("the item carries no result")


def _pairs(result: PreferenceResult, task: TaskInput) -> list[dict[str, Any]]:
    content = {c.candidate_id: c.content for c in task.candidates}
    if sorted(result.ranking) != sorted(content):
        raise UnrenderableItem("the ranking must order exactly the task's candidates")
    conversational = task.conversation is not None
    prompt: Any = _conversation(task) if conversational else task.prompt

    def answer(cid: str) -> Any:
        return [{"role": "assistant", "content": content[cid]}] if conversational else content[cid]

    return [
        {"prompt": prompt, "chosen": answer(better), "rejected": answer(worse)}
        for better, worse in itertools.combinations(result.ranking, 2)
    ]


def _trajectory_messages(result: TrajectoryResult) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    pending_thought = ""
    call_no = 0
    last_call_id = ""
    for step in result.steps:
        if step.kind == "thought":
            pending_thought = f"{pending_thought}\n{step.content}".strip()
        elif step.kind == "action":
            call_no += 1
            last_call_id = f"call_{call_no}"
            messages.append(
                {
                    "role": "assistant",
                    "content": pending_thought or None,
                    "tool_calls": [
                        {
                            "id": last_call_id,
                            "type": "function",
                            "function": {
                                "name": step.tool_name,
                                "arguments": step.tool_arguments_json or "{}",
                            },
                        }
                    ],
                }
            )
            pending_thought = ""
        elif step.kind == "observation":
            messages.append({"role": "tool", "tool_call_id": last_call_id, "content": step.content})
        else:
            raise UnrenderableItem(f"unknown trajectory step kind {step.kind!r}")
    final = f"{pending_thought}\n{result.final_answer}".strip() if pending_thought else result.final_answer
    messages.append({"role": "assistant", "content": final})
    return messages
