"""Wire messages (protobuf) to QA's domain values."""

from __future__ import annotations

import datetime as dt
import functools
import uuid

from cohort.events.v1 import experts_pb2, items_pb2, projects_pb2
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2, tasks_pb2
from cohort_qa.domain.disputes import Dispute, DisputeState
from cohort_qa.domain.gold import GoldReference
from cohort_qa.domain.projects import Criterion, DataKind, QaProject
from cohort_qa.domain.reviewer_routing import ReviewerProfile
from cohort_qa.domain.work import Answer, TaskView

KINDS = {
    types.DATA_KIND_SFT_DEMONSTRATION: DataKind.SFT,
    types.DATA_KIND_PREFERENCE: DataKind.PREFERENCE,
    types.DATA_KIND_TRAJECTORY: DataKind.TRAJECTORY,
    types.DATA_KIND_RUBRIC_GRADE: DataKind.RUBRIC_GRADE,
    types.DATA_KIND_ADVERSARIAL_PROMPT: DataKind.ADVERSARIAL,
}
PROTO_KINDS = {v: k for k, v in KINDS.items()}
_PAYLOAD_KINDS = {
    "sft": DataKind.SFT,
    "preference": DataKind.PREFERENCE,
    "trajectory": DataKind.TRAJECTORY,
    "rubric_grade": DataKind.RUBRIC_GRADE,
    "adversarial": DataKind.ADVERSARIAL,
}


def project_from_activated(m: projects_pb2.ProjectActivated) -> QaProject:
    return QaProject(
        project_id=uuid.UUID(m.project_id),
        lab_id=uuid.UUID(m.lab_id),
        kind=KINDS.get(m.data_kind, DataKind.SFT),
        domain=m.domain,
        overlap=max(1, m.overlap),
        max_overlap=max(m.max_overlap, m.overlap, 1),
        review_sample_rate=m.review_sample_rate,
        minimum_quality=m.qualifications.minimum_quality,
        criteria=tuple(Criterion(c.name, c.weight, c.scale_min, c.scale_max) for c in m.rubric.criteria),
        rubric_version=m.rubric_version,
        instructions_version=m.instructions_version,
        screening_tasks=m.qualifications.screening.tasks,
        screening_pass_share=m.qualifications.screening.pass_share,
        min_confidence=m.consensus.min_confidence if m.consensus.HasField("min_confidence") else None,
        min_rubric_agreement=(
            m.consensus.min_rubric_agreement if m.consensus.HasField("min_rubric_agreement") else None
        ),
        rubric_tolerance=m.consensus.rubric_tolerance if m.consensus.HasField("rubric_tolerance") else None,
        min_degree=m.qualifications.minimum_degree,
        fields=tuple(m.qualifications.fields),
        languages=tuple(m.qualifications.languages),
    )


def reviewer_profile(m: experts_pb2.ExpertProfileChanged) -> ReviewerProfile:
    return ReviewerProfile(
        expert_id=m.expert_id,
        degree=m.degree,
        fields=tuple(m.fields),
        languages=tuple(m.languages),
        blocked_lab_ids=tuple(uuid.UUID(lab) for lab in m.blocked_lab_ids),
        reviewer=m.reviewer,
        active=m.active,
    )


def answer(payload: submissions_pb2.SubmissionPayload) -> Answer | None:
    """The domain view of a payload; None when it carries no kind at all."""
    which = payload.WhichOneof("kind")
    if which is None:
        return None
    kind = _PAYLOAD_KINDS[which]
    if which == "sft":
        s = payload.sft
        return Answer(kind, text=s.response, parts={"main": s.response})
    if which == "preference":
        p = payload.preference
        return Answer(kind, text=p.rationale, ranking=tuple(p.ranking), scores=dict(p.criterion_scores))
    if which == "trajectory":
        t = payload.trajectory
        text = "\n".join([*(step.content for step in t.steps), t.final_answer])
        return Answer(kind, text=text, steps=len(t.steps), parts={"final_answer": t.final_answer})
    if which == "rubric_grade":
        r = payload.rubric_grade
        return Answer(kind, text=r.comments, scores=dict(r.scores))
    a = payload.adversarial
    return Answer(kind, text=f"{a.prompt}\n{a.failure}", parts={"main": a.prompt, "failure": a.failure})


def task_view(data: bytes | None) -> TaskView | None:
    if not data:
        return None
    return _parsed_task_view(data)


@functools.lru_cache(maxsize=4096)
def _parsed_task_view(data: bytes) -> TaskView:
    # Every judgment of a task parses the same input; the views are immutable, so share them.
    task = tasks_pb2.TaskInput.FromString(data)
    if task.WhichOneof("input") == "conversation":
        prompt = "\n".join(message.content for message in task.conversation.messages)
    else:
        prompt = task.prompt
    return TaskView(prompt=prompt, candidates=tuple((c.candidate_id, c.content) for c in task.candidates))


def gold_reference(data: bytes | None) -> GoldReference | None:
    if not data:
        return None
    ref = tasks_pb2.GoldReference.FromString(data)
    return GoldReference(text=ref.text, ranking=tuple(ref.ranking), scores=dict(ref.criterion_scores))


def dispute_from_event(m: items_pb2.ItemDisputed, received: dt.datetime) -> Dispute:
    when = m.dispute_time.ToDatetime(tzinfo=dt.UTC) if m.HasField("dispute_time") else received
    return Dispute(
        uuid.UUID(m.item_id), uuid.UUID(m.project_id), m.task_id, uuid.UUID(m.audit_id), m.reason,
        DisputeState.OPEN, "", "", when, None,
    )  # fmt: skip
