"""Tasks as routing receives them (never with a gold reference)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewTask:
    task_id: str
    input: bytes  # cohort.types.v1.TaskInput, serialized: routing passes it through untouched
    is_gold: bool
    # Part of the project's screening test: served only to experts taking it, one slot per lease.
    is_screening: bool = False
