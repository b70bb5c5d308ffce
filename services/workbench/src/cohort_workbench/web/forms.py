"""Work forms: what the browser posts, per data kind, to the SubmissionPayload tasking expects, and
tasking's field violations back to the form field they are about.

A form is kept as a flat dict of field name to text (lists for the ranking), which is also what a
draft stores: a refused submit or a reload puts back exactly what was typed.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub

Fields = dict[str, Any]
CASE_OF_KIND = {
    types.DATA_KIND_SFT_DEMONSTRATION: "sft",
    types.DATA_KIND_PREFERENCE: "preference",
    types.DATA_KIND_TRAJECTORY: "trajectory",
    types.DATA_KIND_RUBRIC_GRADE: "rubric_grade",
    types.DATA_KIND_ADVERSARIAL_PROMPT: "adversarial",
}
_TEXTS = {
    "sft": ("response", "reasoning"),
    "preference": ("rationale",),
    "trajectory": ("final_answer",),
    "rubric_grade": ("comments",),
    "adversarial": ("prompt", "reference", "failure"),
}
_STEP = re.compile(r"^steps-(\d{1,3})-(kind|content|tool_name|tool_arguments_json)$")
MAX_FORM_STEPS = 200
_STEP_PARTS = ("kind", "content", "tool_name", "tool_arguments_json")


def fields_from_form(form: FormData, case: str) -> Fields:
    """The form's fields that belong to this kind of work; anything else is dropped."""
    out: Fields = {name: str(form.get(name, "")) for name in _TEXTS[case]}
    for key, value in form.multi_items():
        if (key.startswith("score.") and case in ("preference", "rubric_grade")) or (
            case == "trajectory" and (m := _STEP.match(key)) and int(m.group(1)) < MAX_FORM_STEPS
        ):
            out[key] = str(value)
    if case == "preference":
        out["ranking"] = [str(v) for v in form.getlist("ranking")]
    return out


def steps_of(fields: Fields) -> list[dict[str, str]]:
    """The trajectory steps in index order (gaps closed: a removed step leaves none)."""
    indexes = sorted({int(m.group(1)) for k in fields if (m := _STEP.match(k))})
    return [
        {
            part: str(fields.get(f"steps-{i}-{part}", ""))
            for part in ("kind", "content", "tool_name", "tool_arguments_json")
        }
        for i in indexes
    ]


def payload_of(fields: Fields, case: str) -> tuple[sub.SubmissionPayload, dict[str, str]]:
    """The payload, and the errors of fields that could not even be put into one (a score that is
    not a number); tasking judges everything else."""
    errors: dict[str, str] = {}
    scores: dict[str, int] = {}
    for key, value in fields.items():
        if key.startswith("score.") and str(value).strip():
            try:
                scores[key.removeprefix("score.")] = int(str(value))
            except ValueError:
                errors[key] = "Choose a score on the scale."
    payload = sub.SubmissionPayload()
    text = {name: str(fields.get(name, "")) for name in _TEXTS[case]}
    if case == "sft":
        payload.sft.CopyFrom(sub.SftSubmission(**text))
    elif case == "preference":
        payload.preference.CopyFrom(
            sub.PreferenceSubmission(ranking=list(fields.get("ranking") or []), criterion_scores=scores, **text)
        )
    elif case == "trajectory":
        payload.trajectory.CopyFrom(
            sub.TrajectorySubmission(steps=[sub.TrajectoryStep(**s) for s in steps_of(fields)], **text)
        )
    elif case == "rubric_grade":
        payload.rubric_grade.CopyFrom(sub.RubricGradeSubmission(scores=scores, **text))
    else:
        payload.adversarial.CopyFrom(sub.AdversarialSubmission(**text))
    return payload, errors


_SCORE = re.compile(r"^payload\.\w+\.(?:scores|criterion_scores)\[(.+)\]$")
_STEP_PATH = re.compile(r"^payload\.trajectory\.steps\[(\d+)\](?:\.(\w+))?$")


def form_field(violation_path: str) -> str:
    """The form field a tasking violation names ('' for the form as a whole)."""
    if m := _SCORE.match(violation_path):
        return f"score.{m.group(1)}"
    if m := _STEP_PATH.match(violation_path):
        return f"steps-{m.group(1)}-{m.group(2)}" if m.group(2) else f"steps-{m.group(1)}"
    parts = violation_path.split(".")
    if len(parts) >= 3 and parts[0] == "payload":
        return parts[2]
    return ""
