"""Labs: the customer organisations that commission data projects."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from cohort_runtime.domain_errors import InvalidInput, Violation

MAX_DISPLAY_NAME = 200


@dataclass(frozen=True)
class Lab:
    lab_id: uuid.UUID
    display_name: str
    create_time: dt.datetime


@dataclass(frozen=True)
class NewLab:
    """A validated request to onboard a lab."""

    request_id: uuid.UUID
    display_name: str

    @staticmethod
    def parse(request_id: str, display_name: str) -> NewLab:
        violations: list[Violation] = []
        parsed_id: uuid.UUID | None = None
        try:
            parsed_id = uuid.UUID(request_id)
        except ValueError:
            violations.append(Violation("request_id", "must be a UUID"))
        name = display_name.strip()
        if not name:
            violations.append(Violation("display_name", "must not be empty"))
        elif len(name) > MAX_DISPLAY_NAME:
            violations.append(Violation("display_name", f"must be at most {MAX_DISPLAY_NAME} characters"))
        elif any(ord(c) < 32 for c in name):
            violations.append(Violation("display_name", "must not contain control characters"))
        if violations or parsed_id is None:
            raise InvalidInput(violations)
        return NewLab(request_id=parsed_id, display_name=name)

    def fingerprint(self) -> str:
        """What a retry with the same request_id must repeat exactly."""
        return f"display_name={self.display_name}"
