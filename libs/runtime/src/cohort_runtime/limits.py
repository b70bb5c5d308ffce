"""Size and content limits of every request field: the one table the services share.

Every string, bytes, repeated and map field of every request message has a maximum: the entry in
`FIELD_LIMITS` under its full proto name, or the default of its kind. The gRPC edge checks a
decoded request against this table (and refuses what PostgreSQL cannot store: NUL and other C0
control characters except tab, newline and carriage return; timestamps and durations outside the
protobuf range) before any handler runs, with one field violation per offending field.
Domain rules stay where they are and may be stricter (a UUID, a slug, a scale); this table is the
transport contract beneath them. docs/LIMITS.md is generated from it (`scripts/gen_limits_doc.py`).

The limits keep every event that a request becomes below the Kafka record size (`EVENT_MAX_BYTES`):
what the API accepts, the broker can carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from cohort_runtime.errors import FieldViolation

# The producer's max.request.size and the topics' max.message.bytes are 1 MiB; an event's value
# must leave room for its key, CloudEvents and trace headers and the batch framing.
EVENT_MAX_BYTES = 1_000_000
KAFKA_MAX_MESSAGE_BYTES = 1_048_576

DEFAULT_STRING_CHARS = 256
DEFAULT_BYTES = 1024
DEFAULT_ITEMS = 100

# Long text, lists and maps that need more than the defaults (characters for strings, entries for
# repeated and map fields). Keep each below what its event can carry: a task's or a submission's
# text as a whole is further bounded by the service's domain (200,000 characters).
FIELD_LIMITS: dict[str, int] = {
    # Tasks (intake AddTasks; the same types travel in TasksAdded and SubmissionCreated).
    "cohort.intake.v1.AddTasksRequest.tasks": 1000,
    "cohort.types.v1.TaskInput.prompt": 50_000,
    "cohort.types.v1.Conversation.messages": 100,
    "cohort.types.v1.ChatMessage.content": 50_000,
    "cohort.types.v1.TaskInput.candidates": 9,
    "cohort.types.v1.Candidate.content": 50_000,
    "cohort.types.v1.TaskInput.metadata": 32,
    "cohort.types.v1.TaskInput.MetadataEntry.key": 64,
    "cohort.types.v1.TaskInput.MetadataEntry.value": 1024,
    "cohort.types.v1.GoldReference.text": 50_000,
    "cohort.types.v1.GoldReference.ranking": 9,
    "cohort.types.v1.GoldReference.criterion_scores": 20,
    "cohort.types.v1.GoldReference.CriterionScoresEntry.key": 64,
    # Project specs.
    "cohort.intake.v1.ProjectSpec.instructions_markdown": 100_000,
    "cohort.types.v1.Rubric.criteria": 20,
    "cohort.types.v1.RubricCriterion.name": 64,
    "cohort.types.v1.RubricCriterion.description": 2000,
    "cohort.types.v1.Qualifications.fields": 50,
    "cohort.types.v1.Qualifications.languages": 20,
    "cohort.types.v1.Qualifications.cohort_ids": 50,
    "cohort.intake.v1.PauseProjectRequest.reason": 2000,
    "cohort.intake.v1.CancelProjectRequest.reason": 2000,
    # Submissions.
    "cohort.types.v1.SftSubmission.response": 50_000,
    "cohort.types.v1.SftSubmission.reasoning": 50_000,
    "cohort.types.v1.PreferenceSubmission.ranking": 9,
    "cohort.types.v1.PreferenceSubmission.criterion_scores": 20,
    "cohort.types.v1.PreferenceSubmission.CriterionScoresEntry.key": 64,
    "cohort.types.v1.PreferenceSubmission.rationale": 10_000,
    "cohort.types.v1.TrajectorySubmission.steps": 200,
    "cohort.types.v1.TrajectoryStep.kind": 16,
    "cohort.types.v1.TrajectoryStep.content": 50_000,
    "cohort.types.v1.TrajectoryStep.tool_name": 128,
    "cohort.types.v1.TrajectoryStep.tool_arguments_json": 20_000,
    "cohort.types.v1.TrajectorySubmission.final_answer": 50_000,
    "cohort.types.v1.RubricGradeSubmission.scores": 20,
    "cohort.types.v1.RubricGradeSubmission.ScoresEntry.key": 64,
    "cohort.types.v1.RubricGradeSubmission.comments": 10_000,
    "cohort.types.v1.AdversarialSubmission.prompt": 50_000,
    "cohort.types.v1.AdversarialSubmission.reference": 50_000,
    "cohort.types.v1.AdversarialSubmission.failure": 10_000,
    # Reviews.
    "cohort.qa.v1.SubmitReviewRequest.scores": 20,
    "cohort.qa.v1.SubmitReviewRequest.ScoresEntry.key": 64,
    "cohort.qa.v1.SubmitReviewRequest.comments": 10_000,
    # Experts and operators.
    "cohort.tasking.v1.ExpertProfile.fields": 20,
    "cohort.tasking.v1.ExpertProfile.skills": 50,
    "cohort.tasking.v1.ExpertProfile.languages": 20,
    "cohort.tasking.v1.ExpertProfile.blocked_lab_ids": 100,
    "cohort.tasking.v1.ExpertProfile.cohort_ids": 50,
    "cohort.tasking.v1.UpdateMyProfileRequest.skills": 50,
    "cohort.tasking.v1.UpdateMyProfileRequest.languages": 20,
    "cohort.tasking.v1.AddToCohortRequest.expert_ids": 1000,
    "cohort.tasking.v1.RemoveFromCohortRequest.expert_ids": 1000,
    "cohort.tasking.v1.Cohort.description": 1000,
    "cohort.tasking.v1.SetExpertStatusRequest.reason": 2000,
    "cohort.payout.v1.FailPayoutRequest.reason": 2000,
    # Paging and export.
    "cohort.intake.v1.ExportItemsRequest.item_ids": 1000,
    "cohort.intake.v1.ExportItemsRequest.cursor": 1024,
    "cohort.intake.v1.ListProjectsRequest.page_token": 1024,
    "cohort.intake.v1.ListTasksRequest.page_token": 1024,
    "cohort.tasking.v1.GetCohortRequest.page_token": 1024,
    "cohort.tasking.v1.ListCohortsRequest.page_token": 1024,
    "cohort.payout.v1.ListPayoutRunsRequest.page_token": 1024,
    "cohort.intake.v1.RecordFindingsRequest.findings": 1000,
    "cohort.intake.v1.ItemFinding.reason": 2000,
    "cohort.qa.v1.DecideDisputeRequest.comments": 2000,
    "cohort.intake.v1.ListAuditsRequest.page_token": 1024,
    "cohort.qa.v1.ListDisputesRequest.page_token": 1024,
    "cohort.payout.v1.ListMyStatementRequest.page_token": 1024,
    "cohort.tasking.v1.ListMyAssignmentsRequest.page_token": 1024,
}

# C0 controls PostgreSQL cannot store (NUL) or that no text field means (the rest but \t \n \r).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# google.protobuf.Timestamp: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
_TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)
# google.protobuf.Duration: about ±10,000 years.
_DURATION_SECONDS = 315_576_000_000
_NANOS = 999_999_999


def limit_of(field: FieldDescriptor) -> int:
    """The maximum of one field: characters, bytes, or entries for repeated and map fields."""
    explicit = FIELD_LIMITS.get(field.full_name)
    if explicit is not None:
        return explicit
    return DEFAULT_ITEMS if field.is_repeated else element_limit(field)


def element_limit(field: FieldDescriptor) -> int:
    """The length limit of one string or bytes value of `field`. A repeated field's table entry
    counts its entries; each entry is held to the default of its kind."""
    if not field.is_repeated and field.full_name in FIELD_LIMITS:
        return FIELD_LIMITS[field.full_name]
    return DEFAULT_BYTES if field.type == FieldDescriptor.TYPE_BYTES else DEFAULT_STRING_CHARS


@dataclass
class _Walk:
    violations: list[FieldViolation]
    budget: int = 20  # enough to show what is wrong; a hostile request is not described in full

    def add(self, path: str, description: str) -> None:
        if len(self.violations) < self.budget:
            self.violations.append(FieldViolation(path, description))


def check_request(message: Message) -> list[FieldViolation]:
    """Every way `message` breaks the table, as field violations (paths like `tasks[3].input.prompt`)."""
    walk = _Walk([])
    _check_message(message, "", walk)
    return walk.violations


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_message(message: Message, prefix: str, walk: _Walk) -> None:
    descriptor = message.DESCRIPTOR
    if descriptor.full_name == "google.protobuf.Timestamp":
        _check_time(message, prefix, walk, _TIMESTAMP_SECONDS, "a timestamp between years 1 and 9999")
        return
    if descriptor.full_name == "google.protobuf.Duration":
        bound = _DURATION_SECONDS
        _check_time(message, prefix, walk, (-bound, bound), "a duration within ±10,000 years")
        return
    for field, value in message.ListFields():
        path = _join(prefix, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            _check_map(field, value, path, walk)
        elif field.is_repeated:
            if len(value) > limit_of(field):
                walk.add(path, f"must have at most {limit_of(field)} entries")
                continue
            for i, item in enumerate(value):
                _check_value(field, item, f"{path}[{i}]", walk)
        else:
            _check_value(field, value, path, walk)


def _check_map(field: FieldDescriptor, value: object, path: str, walk: _Walk) -> None:
    entries = dict(value)  # type: ignore[call-overload]
    if len(entries) > limit_of(field):
        walk.add(path, f"must have at most {limit_of(field)} entries")
        return
    entry = field.message_type
    assert entry is not None  # noqa: S101 - a map field always has its entry type
    key_field = entry.fields_by_name["key"]
    value_field = entry.fields_by_name["value"]
    for key, item in entries.items():
        entry_path = f"{path}[{key!r}]" if isinstance(key, str) and len(key) <= 64 else f"{path}[…]"
        _check_value(key_field, key, f"{entry_path}.key", walk)
        _check_value(value_field, item, entry_path, walk)


def _check_value(field: FieldDescriptor, value: object, path: str, walk: _Walk) -> None:
    if isinstance(value, Message):
        _check_message(value, path, walk)
    elif isinstance(value, str):
        limit = element_limit(field)
        if len(value) > limit:
            walk.add(path, f"must be at most {limit} characters")
        elif _CONTROL.search(value):
            walk.add(path, "must not contain NUL or other control characters (tab and line breaks are allowed)")
    elif isinstance(value, bytes):
        limit = element_limit(field)
        if len(value) > limit:
            walk.add(path, f"must be at most {limit} bytes")


def _check_time(message: Message, path: str, walk: _Walk, seconds_range: tuple[int, int], what: str) -> None:
    seconds: int = message.seconds  # type: ignore[attr-defined]
    nanos: int = message.nanos  # type: ignore[attr-defined]
    low, high = seconds_range
    if not low <= seconds <= high or not -_NANOS <= nanos <= _NANOS:
        walk.add(path, f"must be {what}")
    elif message.DESCRIPTOR.full_name == "google.protobuf.Timestamp" and nanos < 0:
        walk.add(path, f"must be {what} (nanos 0..999,999,999)")
    elif seconds and nanos and (seconds > 0) != (nanos > 0):
        walk.add(path, f"must be {what} (seconds and nanos of one sign)")
