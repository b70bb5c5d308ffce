"""Tasks: the inputs of a project, optionally gold (with a known answer), and their rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field

from cohort_intake.domain.spec import DataKind, RubricCriterion
from cohort_runtime.domain_errors import Violation

MAX_BATCH = 1000
MAX_TEXT = 50_000
MAX_TASK_CHARS = 200_000  # one task must fit a Kafka record (1 MB) even in 4-byte UTF-8
MAX_TURNS = 100
MAX_METADATA = 32
ROLES = frozenset({"system", "user", "assistant"})
_TASK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_CANDIDATE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    content: str


@dataclass(frozen=True)
class TaskInput:
    prompt: str | None = None
    conversation: tuple[ChatMessage, ...] | None = None
    candidates: tuple[Candidate, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()  # sorted by key: equal inputs compare equal


@dataclass(frozen=True)
class GoldReference:
    text: str = ""
    ranking: tuple[str, ...] = ()
    criterion_scores: tuple[tuple[str, int], ...] = ()  # sorted by criterion name


@dataclass(frozen=True)
class NewTask:
    task_id: str
    input: TaskInput
    gold: GoldReference | None = None
    screening: bool = False  # part of the project's screening test (then gold too)

    def content_hash(self) -> str:
        """Identity of the content: re-adding a task id is a no-op only with the same hash."""
        # The flag joins the hashed content only when set, so hashes of older tasks stay valid.
        content = (self.input, self.gold, "screening") if self.screening else (self.input, self.gold)
        return hashlib.sha256(repr(content).encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    project_id: uuid.UUID
    task_id: str
    input: TaskInput
    gold: GoldReference | None
    create_time: dt.datetime
    seq: int = field(default=0, compare=False)
    screening: bool = False


def validate_batch(tasks: list[NewTask], kind: DataKind, rubric: tuple[RubricCriterion, ...]) -> list[Violation]:
    v: list[Violation] = []
    if not 1 <= len(tasks) <= MAX_BATCH:
        return [Violation("tasks", f"must hold 1..{MAX_BATCH} tasks")]
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        path = f"tasks[{i}]"
        if not _TASK_ID.match(task.task_id):
            v.append(Violation(f"{path}.task_id", "must be 1..128 of letters, digits, '-', '_', '.', ':'"))
        elif task.task_id in seen:
            v.append(Violation(f"{path}.task_id", f"{task.task_id!r} appears twice in this batch"))
        seen.add(task.task_id)
        v += _validate_input(task.input, kind, f"{path}.input")
        if task.gold is not None:
            v += _validate_gold(task.gold, task.input, kind, rubric, f"{path}.gold")
        elif task.screening:
            v.append(Violation(f"{path}.gold", "a screening task needs its gold reference (the right answer)"))
    return v


def _validate_input(t: TaskInput, kind: DataKind, path: str) -> list[Violation]:
    v: list[Violation] = []
    total = 0
    if (t.prompt is None) == (t.conversation is None):
        v.append(Violation(path, "must have exactly one of prompt or conversation"))
    if t.prompt is not None:
        if not t.prompt.strip() or len(t.prompt) > MAX_TEXT:
            v.append(Violation(f"{path}.prompt", f"must be 1..{MAX_TEXT} characters"))
        total += len(t.prompt)
    if t.conversation is not None:
        turns = t.conversation
        if not 1 <= len(turns) <= MAX_TURNS:
            v.append(Violation(f"{path}.conversation.messages", f"must have 1..{MAX_TURNS} turns"))
        for j, m in enumerate(turns):
            if m.role not in ROLES:
                v.append(Violation(f"{path}.conversation.messages[{j}].role", "must be system, user or assistant"))
            if not m.content.strip() or len(m.content) > MAX_TEXT:
                v.append(Violation(f"{path}.conversation.messages[{j}].content", f"must be 1..{MAX_TEXT} characters"))
            total += len(m.content)
        if turns and turns[-1].role != "user":
            v.append(Violation(f"{path}.conversation.messages", "must end with a user turn"))
    wanted = {DataKind.PREFERENCE: (2, 9), DataKind.RUBRIC_GRADE: (1, 1)}.get(kind, (0, 0))
    if not wanted[0] <= len(t.candidates) <= wanted[1]:
        need = "none" if wanted == (0, 0) else f"{wanted[0]}..{wanted[1]}"
        v.append(Violation(f"{path}.candidates", f"a {kind.value} task needs {need} candidates"))
    ids: set[str] = set()
    for j, c in enumerate(t.candidates):
        if not _CANDIDATE_ID.match(c.candidate_id) or c.candidate_id in ids:
            v.append(Violation(f"{path}.candidates[{j}].candidate_id", "must be 1..64 safe characters, distinct"))
        ids.add(c.candidate_id)
        if not c.content.strip() or len(c.content) > MAX_TEXT:
            v.append(Violation(f"{path}.candidates[{j}].content", f"must be 1..{MAX_TEXT} characters"))
        total += len(c.content)
    if len(t.metadata) > MAX_METADATA or any(len(k) > 64 or not k or len(val) > 1024 for k, val in t.metadata):
        v.append(Violation(f"{path}.metadata", f"at most {MAX_METADATA} entries, keys 1..64, values <= 1024 chars"))
    if total > MAX_TASK_CHARS:
        v.append(Violation(path, f"all text of one task must be at most {MAX_TASK_CHARS} characters"))
    return v


def _validate_gold(
    g: GoldReference, t: TaskInput, kind: DataKind, rubric: tuple[RubricCriterion, ...], path: str
) -> list[Violation]:
    if len(g.text) > MAX_TEXT:
        return [Violation(f"{path}.text", f"must be at most {MAX_TEXT} characters")]
    # Parts that do not belong to the kind are refused, not stored and carried unused.
    if g.ranking and kind is not DataKind.PREFERENCE:
        return [Violation(f"{path}.ranking", f"is only for preference tasks, not {kind.value}")]
    if g.criterion_scores and kind is not DataKind.RUBRIC_GRADE:
        return [Violation(f"{path}.criterion_scores", f"is only for rubric-grade tasks, not {kind.value}")]
    if kind is DataKind.PREFERENCE:
        candidates = sorted(c.candidate_id for c in t.candidates)
        if sorted(g.ranking) != candidates:
            return [Violation(f"{path}.ranking", "must rank every candidate id exactly once")]
        return []
    if kind is DataKind.RUBRIC_GRADE:
        scales = {c.name: (c.scale_min, c.scale_max) for c in rubric}
        scores = dict(g.criterion_scores)
        if set(scores) != set(scales):
            return [Violation(f"{path}.criterion_scores", "must score every rubric criterion, and only those")]
        out = [
            Violation(f"{path}.criterion_scores[{name}]", f"must be within {lo}..{hi}")
            for name, (lo, hi) in scales.items()
            if not lo <= scores[name] <= hi
        ]
        return out
    if not g.text.strip():
        return [Violation(f"{path}.text", f"a {kind.value} gold task needs a reference text")]
    return []
