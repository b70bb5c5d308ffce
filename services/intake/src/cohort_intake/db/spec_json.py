"""ProjectSpec <-> the JSON document stored in projects.spec (jsonb)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cohort_intake.domain.spec import (
    DataKind,
    DegreeLevel,
    HourlyPay,
    PayModel,
    PerSubmissionPay,
    ProjectSpec,
    Qualifications,
    RubricCriterion,
)


def to_json(spec: ProjectSpec) -> dict[str, Any]:
    q = spec.qualifications
    model = spec.pay.model
    pay: dict[str, Any] = {"review_rate_minor": spec.pay.review_rate_minor}
    if isinstance(model, PerSubmissionPay):
        pay["per_submission"] = {"rate_minor": model.rate_minor}
    elif isinstance(model, HourlyPay):
        pay["hourly"] = {
            "hourly_rate_minor": model.hourly_rate_minor,
            "per_task_cap_minutes": model.per_task_cap_minutes,
        }
    return {
        "title": spec.title,
        "data_kind": spec.data_kind.value if spec.data_kind else None,
        "domain": spec.domain,
        "qualifications": {
            "minimum_degree": int(q.minimum_degree),
            "fields": list(q.fields),
            "languages": list(q.languages),
            "cohort_ids": list(q.cohort_ids),
            "minimum_quality": q.minimum_quality,
            "screening_tasks": q.screening_tasks,
            "screening_pass_share": q.screening_pass_share,
        },
        "instructions_markdown": spec.instructions_markdown,
        "rubric": [
            {
                "name": c.name,
                "description": c.description,
                "weight": c.weight,
                "scale_min": c.scale_min,
                "scale_max": c.scale_max,
            }
            for c in spec.rubric
        ],
        "target_accepted_items": spec.target_accepted_items,
        "overlap": spec.overlap,
        "max_overlap": spec.max_overlap,
        "gold_rate": spec.gold_rate,
        "review_sample_rate": spec.review_sample_rate,
        "pay": pay,
        "currency_code": spec.currency_code,
        "budget_cap_minor": spec.budget_cap_minor,
        "deadline": spec.deadline.isoformat() if spec.deadline else None,
        "priority": spec.priority,
        "lease_seconds": spec.lease.total_seconds() if spec.lease else None,
        "per_expert_task_cap": spec.per_expert_task_cap,
    }


def from_json(doc: dict[str, Any]) -> ProjectSpec:
    q = doc["qualifications"]
    pay = doc["pay"]
    model: PerSubmissionPay | HourlyPay | None = None
    if "per_submission" in pay:
        model = PerSubmissionPay(rate_minor=pay["per_submission"]["rate_minor"])
    elif "hourly" in pay:
        model = HourlyPay(**pay["hourly"])
    return ProjectSpec(
        title=doc["title"],
        data_kind=DataKind(doc["data_kind"]) if doc["data_kind"] else None,
        domain=doc["domain"],
        qualifications=Qualifications(
            minimum_degree=DegreeLevel(q["minimum_degree"]),
            fields=tuple(q["fields"]),
            languages=tuple(q["languages"]),
            cohort_ids=tuple(q["cohort_ids"]),
            minimum_quality=q["minimum_quality"],
            # Specs stored before screening existed have no test.
            screening_tasks=q.get("screening_tasks", 0),
            screening_pass_share=q.get("screening_pass_share", 0.0),
        ),
        instructions_markdown=doc["instructions_markdown"],
        rubric=tuple(RubricCriterion(**c) for c in doc["rubric"]),
        target_accepted_items=doc["target_accepted_items"],
        overlap=doc["overlap"],
        max_overlap=doc["max_overlap"],
        gold_rate=doc["gold_rate"],
        review_sample_rate=doc["review_sample_rate"],
        pay=PayModel(model=model, review_rate_minor=pay["review_rate_minor"]),
        currency_code=doc["currency_code"],
        budget_cap_minor=doc["budget_cap_minor"],
        deadline=dt.datetime.fromisoformat(doc["deadline"]) if doc["deadline"] else None,
        priority=doc["priority"],
        lease=dt.timedelta(seconds=doc["lease_seconds"]) if doc["lease_seconds"] is not None else None,
        per_expert_task_cap=doc["per_expert_task_cap"],
    )
