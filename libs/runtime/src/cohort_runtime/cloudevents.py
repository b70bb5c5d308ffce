"""CloudEvents 1.0 Kafka protocol binding, binary mode: attributes travel as `ce_*` headers and the
record value is the protobuf event message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"

Headers = list[tuple[str, bytes]]


class MalformedEvent(Exception):
    """A record that does not carry the CloudEvents attributes every Cohort event must have."""


@dataclass(frozen=True)
class EventAttributes:
    id: str
    type: str
    source: str
    time: dt.datetime

    def to_headers(self) -> Headers:
        return [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", self.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z").encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]

    @classmethod
    def from_headers(cls, headers: Headers | tuple[tuple[str, bytes], ...]) -> EventAttributes:
        values: dict[str, str] = {}
        for key, raw in headers:
            if key.startswith("ce_") or key == "content-type":
                try:
                    values[key] = raw.decode()
                except (UnicodeDecodeError, AttributeError) as exc:
                    raise MalformedEvent(f"header {key} is not UTF-8") from exc
        missing = [k for k in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time") if not values.get(k)]
        if missing:
            raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
        if values["ce_specversion"] != SPEC_VERSION:
            raise MalformedEvent(f"unsupported ce_specversion {values['ce_specversion']!r}")
        if values.get("content-type", CONTENT_TYPE) != CONTENT_TYPE:
            raise MalformedEvent(f"unsupported content-type {values['content-type']!r}")
        try:
            time = dt.datetime.fromisoformat(values["ce_time"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise MalformedEvent(f"ce_time {values['ce_time']!r} is not RFC 3339") from exc
        return cls(id=values["ce_id"], type=values["ce_type"], source=values["ce_source"], time=time)
