"""The order in which one assignment shows its candidates: fixed for that assignment (a reload
shows the same order), uniformly random across assignments, so an expert who always picks the
first shown is told apart from a lab whose first candidate is usually the better one."""

from __future__ import annotations

import hashlib
import random


def display_order(assignment_id: str, candidate_ids: list[str]) -> list[str]:
    seed = int.from_bytes(hashlib.sha256(assignment_id.encode()).digest()[:8], "big")
    order = list(candidate_ids)
    random.Random(seed).shuffle(order)  # noqa: S311 - an order to show, not a secret
    return order
