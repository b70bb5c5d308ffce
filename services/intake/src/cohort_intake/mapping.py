"""Domain values <-> cohort.types.v1 messages, shared by the API and the published events."""

from __future__ import annotations

import datetime as dt
from typing import cast

from google.protobuf.duration_pb2 import Duration

from cohort.intake.v1 import projects_pb2 as pb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as task_types
from cohort_intake.domain.spec import (
    CONSENSUS_RANGES,
    ConsensusThresholds,
    DataKind,
    DegreeLevel,
    HourlyPay,
    PayModel,
    PerSubmissionPay,
    ProjectSpec,
    Qualifications,
    RubricCriterion,
)
from cohort_intake.domain.tasks import Candidate, ChatMessage, GoldReference, TaskInput
from cohort_runtime.fields import timestamp

DATA_KINDS: dict[DataKind, types.DataKind.ValueType] = {
    DataKind.SFT_DEMONSTRATION: types.DATA_KIND_SFT_DEMONSTRATION,
    DataKind.PREFERENCE: types.DATA_KIND_PREFERENCE,
    DataKind.TRAJECTORY: types.DATA_KIND_TRAJECTORY,
    DataKind.RUBRIC_GRADE: types.DATA_KIND_RUBRIC_GRADE,
    DataKind.ADVERSARIAL_PROMPT: types.DATA_KIND_ADVERSARIAL_PROMPT,
}
_KINDS_BACK = {v: k for k, v in DATA_KINDS.items()}


def data_kind_from_proto(value: int) -> DataKind | None:
    return _KINDS_BACK.get(cast("types.DataKind.ValueType", value))


def degree_from_proto(value: int) -> DegreeLevel | None:
    try:
        return DegreeLevel(value)
    except ValueError:
        return None


def duration(value: dt.timedelta) -> Duration:
    d = Duration()
    d.FromTimedelta(value)
    return d


def qualifications_to_proto(q: Qualifications) -> types.Qualifications:
    return types.Qualifications(
        minimum_degree=int(q.minimum_degree),  # type: ignore[arg-type]
        fields=q.fields,
        languages=q.languages,
        cohort_ids=q.cohort_ids,
        minimum_quality=q.minimum_quality,
        screening=(
            types.Screening(tasks=q.screening_tasks, pass_share=q.screening_pass_share) if q.screening_tasks else None
        ),
    )


def qualifications_from_proto(q: types.Qualifications) -> Qualifications:
    return Qualifications(
        minimum_degree=degree_from_proto(q.minimum_degree) or DegreeLevel.UNSPECIFIED,
        fields=tuple(f.strip() for f in q.fields),
        languages=tuple(lang.strip() for lang in q.languages),
        cohort_ids=tuple(c.strip() for c in q.cohort_ids),
        minimum_quality=q.minimum_quality,
        screening_tasks=q.screening.tasks,
        screening_pass_share=q.screening.pass_share,
    )


def rubric_to_proto(criteria: tuple[RubricCriterion, ...]) -> types.Rubric:
    return types.Rubric(
        criteria=[
            types.RubricCriterion(
                name=c.name,
                description=c.description,
                weight=c.weight,
                scale_min=c.scale_min,
                scale_max=c.scale_max,
            )
            for c in criteria
        ]
    )


def rubric_from_proto(r: types.Rubric) -> tuple[RubricCriterion, ...]:
    return tuple(
        RubricCriterion(
            name=c.name,
            description=c.description,
            weight=c.weight,
            scale_min=c.scale_min,
            scale_max=c.scale_max,
        )
        for c in r.criteria
    )


def pay_to_proto(pay: PayModel) -> types.PayModel:
    out = types.PayModel(review_rate_minor=pay.review_rate_minor)
    if isinstance(pay.model, PerSubmissionPay):
        out.per_submission.rate_minor = pay.model.rate_minor
    elif isinstance(pay.model, HourlyPay):
        out.hourly.hourly_rate_minor = pay.model.hourly_rate_minor
        out.hourly.per_task_cap_minutes = pay.model.per_task_cap_minutes
    return out


def pay_from_proto(pay: types.PayModel) -> PayModel:
    which = pay.WhichOneof("model")
    model: PerSubmissionPay | HourlyPay | None = None
    if which == "per_submission":
        model = PerSubmissionPay(rate_minor=pay.per_submission.rate_minor)
    elif which == "hourly":
        model = HourlyPay(
            hourly_rate_minor=pay.hourly.hourly_rate_minor,
            per_task_cap_minutes=pay.hourly.per_task_cap_minutes,
        )
    return PayModel(model=model, review_rate_minor=pay.review_rate_minor)


def task_input_to_proto(t: TaskInput) -> task_types.TaskInput:
    out = task_types.TaskInput(
        candidates=[task_types.Candidate(candidate_id=c.candidate_id, content=c.content) for c in t.candidates],
        metadata=dict(t.metadata),
    )
    if t.prompt is not None:
        out.prompt = t.prompt
    if t.conversation is not None:
        out.conversation.messages.extend(task_types.ChatMessage(role=m.role, content=m.content) for m in t.conversation)
    return out


def task_input_from_proto(t: task_types.TaskInput) -> TaskInput:
    which = t.WhichOneof("input")
    return TaskInput(
        prompt=t.prompt if which == "prompt" else None,
        conversation=tuple(ChatMessage(m.role, m.content) for m in t.conversation.messages)
        if which == "conversation"
        else None,
        candidates=tuple(Candidate(c.candidate_id, c.content) for c in t.candidates),
        metadata=tuple(sorted(t.metadata.items())),
    )


def gold_to_proto(g: GoldReference) -> task_types.GoldReference:
    return task_types.GoldReference(text=g.text, ranking=g.ranking, criterion_scores=dict(g.criterion_scores))


def gold_from_proto(g: task_types.GoldReference) -> GoldReference:
    return GoldReference(
        text=g.text, ranking=tuple(g.ranking), criterion_scores=tuple(sorted(g.criterion_scores.items()))
    )


def _consensus_from_proto(c: types.ConsensusThresholds) -> ConsensusThresholds:
    return ConsensusThresholds(
        min_confidence=c.min_confidence if c.HasField("min_confidence") else None,
        min_rubric_agreement=c.min_rubric_agreement if c.HasField("min_rubric_agreement") else None,
        rubric_tolerance=c.rubric_tolerance if c.HasField("rubric_tolerance") else None,
    )


def spec_from_proto(s: pb.ProjectSpec) -> ProjectSpec:
    kind = data_kind_from_proto(s.data_kind)
    return ProjectSpec(
        title=s.title,
        data_kind=kind,
        domain=s.domain.strip(),
        qualifications=qualifications_from_proto(s.qualifications),
        instructions_markdown=s.instructions_markdown,
        rubric=rubric_from_proto(s.rubric),
        target_accepted_items=s.target_accepted_items,
        overlap=s.overlap,
        max_overlap=s.max_overlap,
        gold_rate=s.gold_rate,
        review_sample_rate=s.review_sample_rate,
        pay=pay_from_proto(s.pay),
        currency_code=s.currency_code.strip(),
        budget_cap_minor=s.budget_cap_minor,
        deadline=s.deadline.ToDatetime(tzinfo=dt.UTC) if s.HasField("deadline") else None,
        priority=s.priority,
        lease=s.lease_duration.ToTimedelta() if s.HasField("lease_duration") else None,
        per_expert_task_cap=s.per_expert_task_cap,
        consensus=_consensus_from_proto(s.consensus),
    )


def spec_to_proto(s: ProjectSpec) -> pb.ProjectSpec:
    out = pb.ProjectSpec(
        title=s.title,
        domain=s.domain,
        qualifications=qualifications_to_proto(s.qualifications),
        instructions_markdown=s.instructions_markdown,
        rubric=rubric_to_proto(s.rubric),
        target_accepted_items=s.target_accepted_items,
        overlap=s.overlap,
        max_overlap=s.max_overlap,
        gold_rate=s.gold_rate,
        review_sample_rate=s.review_sample_rate,
        pay=pay_to_proto(s.pay),
        currency_code=s.currency_code,
        budget_cap_minor=s.budget_cap_minor,
        priority=s.priority,
        per_expert_task_cap=s.per_expert_task_cap,
    )
    if s.data_kind is not None:
        out.data_kind = DATA_KINDS[s.data_kind]
    if s.deadline is not None:
        out.deadline.CopyFrom(timestamp(s.deadline))
    if s.lease is not None:
        out.lease_duration.CopyFrom(duration(s.lease))
    for name in CONSENSUS_RANGES:
        value = getattr(s.consensus, name)
        if value is not None:
            setattr(out.consensus, name, value)
    return out
