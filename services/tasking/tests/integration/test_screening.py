"""Qualification screening over real gRPC, PostgreSQL and Kafka: an expert answers the project's
screening tasks first, waits for QA's decision, then works real tasks only after a pass."""

from __future__ import annotations

from cohort.events.v1 import quality_pb2
from cohort.events.v1 import submissions_pb2 as sub_events
from cohort.events.v1 import tasks_pb2 as task_events
from cohort.tasking.v1 import work_pb2 as pb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime import testing

RANK_AB = sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"]))


async def _screened_project(tasking, screening_tasks: int = 3, answers: int = 2) -> str:
    pid = await tasking.project(
        tasks=2,
        overlap=1,
        qualifications=types.Qualifications(
            fields=["chemistry"], screening=types.Screening(tasks=answers, pass_share=1.0)
        ),
    )
    test = task_events.TasksAdded(
        project_id=pid,
        tasks=[
            task_events.AddedTask(
                task_id=f"s{i}",
                is_gold=True,
                is_screening=True,
                input=ttypes.TaskInput(
                    prompt=f"Screening question {i}",
                    candidates=[
                        ttypes.Candidate(candidate_id="a", content="A"),
                        ttypes.Candidate(candidate_id="b", content="B"),
                    ],
                ),
            )
            for i in range(screening_tasks)
        ],
    )
    await tasking.events.send("cohort.intake.tasks.v1", pid, test)
    await _eventually(
        lambda: tasking.pool.fetchval(
            "SELECT count(*) = $2 FROM tasks WHERE project_id = $1::text::uuid AND is_screening", pid, screening_tasks
        )
    )
    return pid


async def _eventually(check, within: float = 20.0) -> None:
    await testing.eventually(check, within)


async def _decide(tasking, pid: str, expert: str, passed: bool) -> None:
    decision = quality_pb2.QualificationDecided(
        expert_id=expert, project_id=pid, passed=passed, correct=2 if passed else 0, answered=2
    )
    await tasking.events.send("cohort.qa.expert_quality.v1", expert, decision)
    await _eventually(
        lambda: tasking.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM qualifications WHERE expert_id = $1 AND project_id = $2::text::uuid)",
            expert,
            pid,
        )
    )


async def _acquire(tasking, creds) -> pb.Assignment | None:
    reply = await tasking.work.AcquireTask(pb.AcquireTaskRequest(), metadata=creds)
    return reply.assignment if reply.HasField("assignment") else None


async def test_screening_first_then_real_work_after_a_pass(tasking):
    pid = await _screened_project(tasking)
    expert, creds = await tasking.register()

    async def shown() -> pb.EligibleProject:
        listed = await tasking.work.ListEligibleProjects(pb.ListEligibleProjectsRequest(), metadata=creds)
        return next(p for p in listed.projects if p.project_id == pid)

    before = await shown()
    assert before.screening_status == pb.SCREENING_STATUS_PENDING and before.screening.tasks == 2
    assert before.pay.per_submission.rate_minor == 100 and before.currency_code == "EUR"

    first = await _acquire(tasking, creds)
    assert first is not None and first.task_id.startswith("s"), "the test comes before real work"
    # Skipping a screening task hands it back; it never joins the shared queue.
    await tasking.work.ReleaseTask(pb.ReleaseTaskRequest(assignment_id=first.assignment_id), metadata=creds)
    assert await tasking.pool.fetchval("SELECT count(*) FROM slots WHERE is_screening AND open") == 0

    answered = []
    for _ in range(2):
        got = await _acquire(tasking, creds)
        assert got is not None and got.task_id.startswith("s")
        assert got.task_id not in answered, "never the same screening task twice"
        await tasking.work.SubmitTask(
            pb.SubmitTaskRequest(assignment_id=got.assignment_id, payload=RANK_AB), metadata=creds
        )
        answered.append(got.task_id)
    assert await _acquire(tasking, creds) is None, "enough answers given: QA's decision is awaited"

    rows = await tasking.pool.fetch(
        "SELECT payload FROM outbox WHERE event_type = 'cohort.events.v1.SubmissionCreated'"
    )
    sent = [sub_events.SubmissionCreated.FromString(bytes(r["payload"])) for r in rows]
    assert sorted(e.task_id for e in sent if e.expert_id == expert) == sorted(answered)
    assert all(e.is_screening and e.is_gold for e in sent if e.expert_id == expert)
    # Screening answers do not use up the per-expert cap, and the real queue is untouched.
    counts = await tasking.pool.fetchrow(
        "SELECT submissions, screening_submissions FROM expert_project_counts WHERE expert_id = $1", expert
    )
    assert (counts["submissions"], counts["screening_submissions"]) == (0, 2)
    assert (
        await tasking.pool.fetchval(
            "SELECT count(*) FROM slots WHERE project_id = $1::text::uuid AND open AND NOT is_screening", pid
        )
        == 2
    )

    await tasking.pool.execute(
        "UPDATE assignments SET active_seconds = 600 WHERE expert_id = $1 AND state = 'submitted'", expert
    )
    assert (await shown()).typical_minutes == 10, "the median tracked time of the project's submissions"
    await _decide(tasking, pid, expert, passed=True)
    assert (await shown()).screening_status == pb.SCREENING_STATUS_PASSED
    real = await _acquire(tasking, creds)
    assert real is not None and real.task_id.startswith("t"), "a pass opens the real tasks"
    assert [(c.name, c.weight) for c in real.rubric.criteria] == [("quality", 1.0)], "weights reach the expert"


async def test_a_failed_test_closes_the_project(tasking):
    pid = await _screened_project(tasking)
    expert, creds = await tasking.register()
    await _decide(tasking, pid, expert, passed=False)
    assert await _acquire(tasking, creds) is None
    eligible = await tasking.work.ListEligibleProjects(pb.ListEligibleProjectsRequest(), metadata=creds)
    assert pid not in [p.project_id for p in eligible.projects]

    # Another expert, still to take the test, sees the project and is served its test.
    _, other = await tasking.register()
    eligible = await tasking.work.ListEligibleProjects(pb.ListEligibleProjectsRequest(), metadata=other)
    assert pid in [p.project_id for p in eligible.projects]
    got = await _acquire(tasking, other)
    assert got is not None and got.task_id.startswith("s")


async def test_too_few_screening_tasks_leave_the_expert_waiting(tasking):
    """A test asks for more answers than it has tasks (intake refuses to activate such a project;
    tasking still must not hand out real work): the expert gets nothing after the last one."""
    await _screened_project(tasking, screening_tasks=1, answers=2)
    _, creds = await tasking.register()
    got = await _acquire(tasking, creds)
    assert got is not None and got.task_id == "s0"
    await tasking.work.SubmitTask(
        pb.SubmitTaskRequest(assignment_id=got.assignment_id, payload=RANK_AB), metadata=creds
    )
    assert await _acquire(tasking, creds) is None
