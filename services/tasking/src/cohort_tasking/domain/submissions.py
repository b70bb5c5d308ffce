"""What an expert hands in, checked against the project's data kind before it is accepted."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cohort_runtime.domain_errors import Violation
from cohort_tasking.domain.routing import Criterion

MAX_TEXT = 50_000
MAX_NOTE = 10_000
MAX_STEPS = 200
# All text of one submission: its SubmissionCreated event must fit a Kafka record (1 MB) even in
# 4-byte UTF-8, whatever mix of fields (200 trajectory steps of 50,000 characters would not).
MAX_PAYLOAD_CHARS = 200_000
STEP_KINDS = frozenset({"thought", "action", "observation"})

# cohort.types.v1.DataKind values
SFT, PREFERENCE, TRAJECTORY, RUBRIC_GRADE, ADVERSARIAL = 1, 2, 3, 4, 5
KIND_OF_CASE = {
    "sft": SFT,
    "preference": PREFERENCE,
    "trajectory": TRAJECTORY,
    "rubric_grade": RUBRIC_GRADE,
    "adversarial": ADVERSARIAL,
}


@dataclass(frozen=True)
class Step:
    kind: str
    content: str
    tool_name: str
    tool_arguments_json: str


@dataclass(frozen=True)
class Payload:
    """The submission, flattened: `case` names which parts are meaningful."""

    case: str | None
    texts: dict[str, str]
    ranking: tuple[str, ...] = ()
    scores: tuple[tuple[str, int], ...] = ()
    steps: tuple[Step, ...] = ()


def validate(
    payload: Payload, data_kind: int, candidate_ids: tuple[str, ...], rubric: tuple[Criterion, ...]
) -> list[Violation]:
    p = "payload"
    if payload.case is None or KIND_OF_CASE.get(payload.case) != data_kind:
        expected = next((c for c, k in KIND_OF_CASE.items() if k == data_kind), "?")
        return [Violation(p, f"this project expects a {expected} submission")]
    v: list[Violation] = []
    case = payload.case
    total = sum(len(t) for t in payload.texts.values()) + sum(
        len(s.content) + len(s.tool_name) + len(s.tool_arguments_json) for s in payload.steps
    )
    if total > MAX_PAYLOAD_CHARS:
        return [Violation(f"{p}.{case}", f"all text of one submission must be at most {MAX_PAYLOAD_CHARS} characters")]

    def text(name: str, limit: int, required: bool = True) -> None:
        value = payload.texts.get(name, "")
        if (required and not value.strip()) or len(value) > limit:
            v.append(Violation(f"{p}.{case}.{name}", f"must be {'1' if required else '0'}..{limit} characters"))

    if case == "sft":
        text("response", MAX_TEXT)
        text("reasoning", MAX_TEXT, required=False)
    elif case == "preference":
        if sorted(payload.ranking) != sorted(candidate_ids):
            v.append(Violation(f"{p}.preference.ranking", "must rank every candidate exactly once"))
        if payload.scores:
            v += _scores(payload.scores, rubric, f"{p}.preference.criterion_scores", complete=False)
        text("rationale", MAX_NOTE, required=False)
    elif case == "trajectory":
        if not 1 <= len(payload.steps) <= MAX_STEPS:
            v.append(Violation(f"{p}.trajectory.steps", f"must have 1..{MAX_STEPS} steps"))
        for i, s in enumerate(payload.steps):
            path = f"{p}.trajectory.steps[{i}]"
            if s.kind not in STEP_KINDS:
                v.append(Violation(f"{path}.kind", "must be thought, action or observation"))
            if len(s.content) > MAX_TEXT:
                v.append(Violation(f"{path}.content", f"must be at most {MAX_TEXT} characters"))
            if s.kind == "action" and (not s.tool_name or not _json_object(s.tool_arguments_json or "{}")):
                v.append(Violation(f"{path}", "an action needs a tool_name and JSON object arguments"))
        text("final_answer", MAX_TEXT)
    elif case == "rubric_grade":
        v += _scores(payload.scores, rubric, f"{p}.rubric_grade.scores", complete=True)
        text("comments", MAX_NOTE, required=False)
    else:
        text("prompt", MAX_TEXT)
        text("reference", MAX_TEXT)
        text("failure", MAX_NOTE)
    return v


def _scores(
    scores: tuple[tuple[str, int], ...], rubric: tuple[Criterion, ...], path: str, complete: bool
) -> list[Violation]:
    scales = {c.name: c for c in rubric}
    given = dict(scores)
    out = [Violation(f"{path}[{k}]", "is not a rubric criterion") for k in given if k not in scales]
    if complete:
        out += [Violation(f"{path}[{k}]", "is missing") for k in scales if k not in given]
    out += [
        Violation(f"{path}[{k}]", f"must be within {scales[k].scale_min}..{scales[k].scale_max}")
        for k, value in given.items()
        if k in scales and not scales[k].scale_min <= value <= scales[k].scale_max
    ]
    return out


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
