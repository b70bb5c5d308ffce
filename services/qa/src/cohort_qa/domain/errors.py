"""QA's domain errors; the API maps them to gRPC status codes."""

from __future__ import annotations


class QaError(Exception):
    pass


class InvalidReview(QaError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


class ReviewNotFound(QaError):
    pass


class ReviewNotLeased(QaError):
    """The review's lease ended, or belongs to someone else."""


class ReviewerNotQualified(QaError):
    def __init__(self, mean: float) -> None:
        super().__init__(f"quality estimate {mean:.2f} in this domain is below the reviewer bar")
        self.mean = mean


class ProjectNotFound(QaError):
    pass
