"""CloudEvents binary-mode headers round-trip, and malformed ones are named precisely."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cohort_runtime.cloudevents import EventAttributes, MalformedEvent

names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=60)


@given(names, names, names, st.datetimes(timezones=st.just(dt.UTC)))
def test_attributes_round_trip(event_id, event_type, source, time):
    attrs = EventAttributes(id=event_id, type=event_type, source=source, time=time)
    assert EventAttributes.from_headers(attrs.to_headers()) == attrs


def test_headers_follow_the_kafka_binding():
    attrs = EventAttributes(id="1", type="t", source="/s", time=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    headers = dict(attrs.to_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_time"] == b"2026-01-02T03:04:05Z"
    assert headers["content-type"] == b"application/protobuf"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([], "missing CloudEvents headers: ce_specversion, ce_id, ce_type, ce_source, ce_time"),
        (
            [
                ("ce_specversion", b"0.3"),
                ("ce_id", b"1"),
                ("ce_type", b"t"),
                ("ce_source", b"s"),
                ("ce_time", b"2026-01-01T00:00:00Z"),
            ],
            "unsupported ce_specversion",
        ),
        (
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"1"),
                ("ce_type", b"t"),
                ("ce_source", b"s"),
                ("ce_time", b"yesterday"),
            ],
            "is not RFC 3339",
        ),
        (
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"\xff"),
                ("ce_type", b"t"),
                ("ce_source", b"s"),
                ("ce_time", b"2026-01-01T00:00:00Z"),
            ],
            "not UTF-8",
        ),
    ],
)
def test_malformed_headers_are_refused(headers, message):
    with pytest.raises(MalformedEvent, match=message):
        EventAttributes.from_headers(headers)
