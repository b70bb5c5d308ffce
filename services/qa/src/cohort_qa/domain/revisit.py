"""Whether a delivered item still stands once some of its experts are suspended.

An expert is suspended in a project (collusion, position bias, straight-lining, quality) after
their work has been judged a while: by then their answers are in items already delivered, where a
colluding pair outvoted the honest expert beside them or a straight-liner pulled a median. From the
suspension on their answers weigh nothing in new aggregations (consensus.Judgment.suspended); an
item delivered before is reworked when, without them, it would not have been delivered as it was.

The rule asks of the item what finalizing it asked: the judgments of the experts still in good
standing, aggregated alone as if the task had just reached its overlap, must reach the project's
consensus bar (or the maximum overlap) and give the same result — the same top choice, every
rubric criterion within the project's tolerance, the same chosen submission. Anything less and
the item's claim rested on the suspended experts.
"""

from __future__ import annotations

import numpy as np

from cohort_qa.domain import consensus
from cohort_qa.domain.consensus import ChosenItem, ItemResult, Judgment, PreferenceItem, RubricItem
from cohort_qa.domain.projects import QaProject


def stands(
    project: QaProject,
    delivered: ItemResult,
    judgments: list[Judgment],
    *,
    candidate_ids: tuple[str, ...] = (),
    priors: np.ndarray | None = None,
) -> bool:
    """True when the item `delivered` from `judgments` holds without its suspended experts."""
    counted = [j for j in judgments if not j.suspended]
    if not counted:
        return False
    again = consensus.aggregate(project, counted, candidate_ids=candidate_ids, priors=priors)
    return not again.needs_more and same_result(project, delivered, again.result)


def same_result(project: QaProject, delivered: ItemResult, again: ItemResult) -> bool:
    """The two results say the same thing to the lab."""
    if isinstance(delivered, PreferenceItem) and isinstance(again, PreferenceItem):
        return bool(delivered.ranking) and delivered.ranking[:1] == again.ranking[:1]
    if isinstance(delivered, RubricItem) and isinstance(again, RubricItem):
        tolerance = consensus.RUBRIC_TOLERANCE if project.rubric_tolerance is None else project.rubric_tolerance
        return all(
            c.name in delivered.scores
            and c.name in again.scores
            and abs(delivered.scores[c.name] - again.scores[c.name]) <= tolerance * c.span
            for c in project.criteria
            if c.name in delivered.scores or c.name in again.scores
        )
    if isinstance(delivered, ChosenItem) and isinstance(again, ChosenItem):
        return delivered.submission_id == again.submission_id
    return False
