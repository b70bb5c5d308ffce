"""ExpertProfileChanged: what QA needs to route reviews like work, on every change of it."""

from __future__ import annotations

import datetime as dt

from cohort.events.v1 import experts_pb2 as events
from cohort_runtime.fields import timestamp
from cohort_tasking.domain.experts import Expert, ExpertStatus
from cohort_tasking.events.topics import EXPERTS


def profile_changed(expert: Expert, now: dt.datetime) -> tuple[str, str, events.ExpertProfileChanged]:
    """The outbox entry (topic, key, message) for `expert` as they now stand."""
    return (
        EXPERTS,
        expert.expert_id,
        events.ExpertProfileChanged(
            expert_id=expert.expert_id,
            degree=expert.degree,  # type: ignore[arg-type]
            fields=list(expert.fields),
            languages=list(expert.languages),
            blocked_lab_ids=[str(lab) for lab in expert.blocked_lab_ids],
            reviewer=expert.reviewer,
            active=expert.status is ExpertStatus.ACTIVE,
            change_time=timestamp(now),
        ),
    )
