"""How many slots a task's revision may have.

The project's maximum overlap counts the answers that can stand: a slot opened to replace an
answer QA rejected does not use it up, or a task answered by three spammers first would be
finalized on what was left. So that a task cannot draw slots for ever, a revision holds at most
`slot_ceiling` slots in all. QA applies the same rule to tell when no more answers can come
(cohort_qa.domain.finalization): the two must agree, or a task waits for an answer routing will
never ask for.
"""

from __future__ import annotations

CEILING_PER_MAXIMUM = 2


def slot_ceiling(max_overlap: int) -> int:
    """The most slots a task's revision may have, replacements of rejected answers included."""
    return CEILING_PER_MAXIMUM * max_overlap
