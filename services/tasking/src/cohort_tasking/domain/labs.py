"""Tasking's copy of the labs it routes work for (conflict-of-interest walls name labs)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownLab:
    lab_id: uuid.UUID
    display_name: str
    create_time: dt.datetime
