"""A valid project spec for tests, as the proto a lab would send."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from cohort.intake.v1 import projects_pb2 as pb
from cohort.types.v1 import projects_pb2 as types


def valid_spec(**overrides: object) -> pb.ProjectSpec:
    deadline = Timestamp()
    deadline.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    spec = pb.ProjectSpec(
        title="Organic synthesis SFT",
        data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
        domain="chemistry.organic",
        qualifications=types.Qualifications(
            minimum_degree=types.DEGREE_LEVEL_MASTER,
            fields=["chemistry"],
            languages=["en"],
            minimum_quality=0.7,
        ),
        instructions_markdown="# Write the ideal answer\nShow your reasoning.",
        rubric=types.Rubric(
            criteria=[
                types.RubricCriterion(
                    name="correctness", description="Is it right?", weight=0.7, scale_min=1, scale_max=5
                ),
                types.RubricCriterion(name="clarity", description="Is it clear?", weight=0.3, scale_min=1, scale_max=5),
            ]
        ),
        target_accepted_items=100,
        overlap=3,
        max_overlap=5,
        gold_rate=0.1,
        review_sample_rate=0.2,
        pay=types.PayModel(per_submission=types.PayModel.PerSubmission(rate_minor=1500), review_rate_minor=300),
        currency_code="EUR",
        budget_cap_minor=1_000_000,
        deadline=deadline,
        priority=10,
        per_expert_task_cap=50,
    )
    for name, value in overrides.items():
        setattr(spec, name, value)
    return spec
