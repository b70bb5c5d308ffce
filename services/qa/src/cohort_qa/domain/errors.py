"""QA's errors beyond the chassis's common ones; the gRPC edge maps every one by its base."""

from __future__ import annotations

from cohort_runtime.domain_errors import InvalidInput, NotAllowed, NotFoundError, StateConflict, Violation


class InvalidReview(InvalidInput):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(Violation(field, description) for field, description in problems.items())
        self.problems = problems


class ReviewNotFound(NotFoundError):
    def __init__(self, review_id: object) -> None:
        super().__init__("review", review_id)


class ProjectNotFound(NotFoundError):
    def __init__(self, project_id: object) -> None:
        super().__init__("project", project_id)


class ReviewNotLeased(StateConflict):
    """The review's lease ended, or belongs to someone else."""

    def __init__(self, message: str) -> None:
        super().__init__(message, subject="review", state="lease")


class ReviewerNotQualified(NotAllowed):
    def __init__(self, mean: float) -> None:
        super().__init__(f"quality estimate {mean:.2f} in this domain is below the reviewer bar")
        self.mean = mean


class NotEligibleToReview(NotAllowed):
    """Routing keeps the person from this project's reviews (domain/reviewer_routing.py)."""

    def __init__(self, why: str) -> None:
        super().__init__(f"may not review this project's work: {why}")
        self.why = why
