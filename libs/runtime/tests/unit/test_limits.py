"""The limits table refuses what cannot be stored or carried, and names the field."""

from __future__ import annotations

import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from cohort.intake.v1 import projects_pb2, tasks_pb2
from cohort.tasking.v1 import work_pb2
from cohort.types.v1 import submissions_pb2
from cohort.types.v1 import tasks_pb2 as types_tasks_pb2
from cohort_runtime.limits import DEFAULT_STRING_CHARS, EVENT_MAX_BYTES, FIELD_LIMITS, check_request


def _fields(message) -> list[str]:
    return [v.field for v in check_request(message)]


def test_a_valid_request_passes():
    request = work_pb2.SubmitTaskRequest(
        assignment_id="0b7f3b56-0d0b-4a8e-9f59-0d5bd2f1a001",
        payload=submissions_pb2.SubmissionPayload(sft=submissions_pb2.SftSubmission(response="a\n\tb\r\n")),
    )
    assert check_request(request) == []


@pytest.mark.parametrize("bad", ["\x00", "a\x01b", "\x1b[31m", "x\x0c"])
def test_nul_and_control_characters_are_refused_at_their_path(bad):
    request = work_pb2.SubmitTaskRequest(
        payload=submissions_pb2.SubmissionPayload(
            trajectory=submissions_pb2.TrajectorySubmission(
                steps=[submissions_pb2.TrajectoryStep(kind="thought"), submissions_pb2.TrajectoryStep(content=bad)]
            )
        )
    )
    assert _fields(request) == ["payload.trajectory.steps[1].content"]


def test_strings_lists_and_maps_over_their_limit_are_refused():
    steps = [submissions_pb2.TrajectoryStep(kind="action", tool_arguments_json="{}" * 20_000)]
    request = work_pb2.SubmitTaskRequest(
        assignment_id="x" * (DEFAULT_STRING_CHARS + 1),
        payload=submissions_pb2.SubmissionPayload(trajectory=submissions_pb2.TrajectorySubmission(steps=steps)),
    )
    assert _fields(request) == ["assignment_id", "payload.trajectory.steps[0].tool_arguments_json"]
    gold = types_tasks_pb2.GoldReference(ranking=[f"c{i}" for i in range(1500)])
    batch = tasks_pb2.AddTasksRequest(tasks=[tasks_pb2.NewTask(task_id="t", gold=gold)])
    assert _fields(batch) == ["tasks[0].gold.ranking"]
    meta = types_tasks_pb2.TaskInput(metadata={f"k{i}": "v" for i in range(33)})
    assert _fields(tasks_pb2.AddTasksRequest(tasks=[tasks_pb2.NewTask(input=meta)])) == ["tasks[0].input.metadata"]


def test_map_keys_are_checked_too():
    meta = types_tasks_pb2.TaskInput(metadata={"bad\x00key": "v"})
    (field,) = _fields(tasks_pb2.AddTasksRequest(tasks=[tasks_pb2.NewTask(input=meta)]))
    assert field.endswith(".key") and field.startswith("tasks[0].input.metadata[")


@pytest.mark.parametrize(
    ("seconds", "nanos", "ok"),
    [
        (0, 0, True),
        (253_402_300_799, 999_999_999, True),
        (253_402_300_800, 0, False),
        (-62_135_596_801, 0, False),
        (1, -1, False),
        (1, 1_000_000_000, False),
    ],
)
def test_timestamps_outside_the_protobuf_range_are_refused(seconds, nanos, ok):
    spec = projects_pb2.ProjectSpec(deadline=timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos))
    assert (_fields(projects_pb2.CreateProjectRequest(spec=spec)) == []) is ok


@pytest.mark.parametrize(
    ("seconds", "nanos", "ok"),
    [(60, 0, True), (-1, -5, True), (315_576_000_001, 0, False), (1, -5, False)],
)
def test_durations_outside_the_protobuf_range_are_refused(seconds, nanos, ok):
    spec = projects_pb2.ProjectSpec(lease_duration=duration_pb2.Duration(seconds=seconds, nanos=nanos))
    assert (_fields(projects_pb2.CreateProjectRequest(spec=spec)) == []) is ok


def test_a_hostile_request_is_described_with_a_bounded_number_of_violations():
    batch = tasks_pb2.AddTasksRequest(tasks=[tasks_pb2.NewTask(task_id="\x00") for _ in range(500)])
    assert len(check_request(batch)) == 20


def test_every_limited_field_exists_in_the_protos():
    """A table entry naming a field that does not exist would guard nothing."""
    import importlib
    import pkgutil

    from google.protobuf import descriptor_pool

    import cohort

    for module in pkgutil.walk_packages(cohort.__path__, "cohort."):
        if module.name.endswith("_pb2"):
            importlib.import_module(module.name)
    pool = descriptor_pool.Default()
    for name in FIELD_LIMITS:
        message, _, field = name.rpartition(".")
        assert pool.FindMessageTypeByName(message).fields_by_name[field] is not None, name


def test_the_largest_submission_the_limits_admit_fits_a_kafka_record():
    """Every text field of an SFT submission at its limit, in 1-byte UTF-8, is under the event
    budget; the domain's total of 200,000 characters holds it there for multi-byte text."""
    sft = submissions_pb2.SftSubmission(
        response="x" * FIELD_LIMITS["cohort.types.v1.SftSubmission.response"],
        reasoning="x" * FIELD_LIMITS["cohort.types.v1.SftSubmission.reasoning"],
    )
    assert len(sft.SerializeToString()) * 4 < EVENT_MAX_BYTES


@given(st.text(max_size=300))
def test_any_text_is_either_admitted_or_refused_for_a_stated_reason(text):
    violations = check_request(work_pb2.AcquireTaskRequest(project_id=text))
    has_control = any(ord(c) < 32 and c not in "\t\n\r" for c in text)
    assert bool(violations) == (has_control or len(text) > DEFAULT_STRING_CHARS)


def test_a_repeated_fields_entry_counts_its_entries_not_each_entrys_length():
    """The ranking's table entry (9) is how many candidate ids it may hold; each id may be as long
    as any string (a 64-character candidate id is valid in intake)."""
    long_id = "candidate_" + "x" * 54
    ranking = submissions_pb2.PreferenceSubmission(ranking=[long_id, "b"])
    request = work_pb2.SubmitTaskRequest(payload=submissions_pb2.SubmissionPayload(preference=ranking))
    assert check_request(request) == []
    too_many = submissions_pb2.PreferenceSubmission(ranking=[f"c{i}" for i in range(10)])
    request = work_pb2.SubmitTaskRequest(payload=submissions_pb2.SubmissionPayload(preference=too_many))
    assert _fields(request) == ["payload.preference.ranking"]
