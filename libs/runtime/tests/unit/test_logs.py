"""The JSON log line: one line per retry when a dependency is away, a traceback for anything else."""

from __future__ import annotations

import io
import json
import logging

import asyncpg
import pytest

from cohort_runtime.logs import json_handler


def _logged(exc: BaseException, level: int = logging.WARNING) -> dict[str, object]:
    """The JSON line for `exc` logged at `level` with its exception info."""
    stream = io.StringIO()
    logger = logging.Logger("test")  # not in the hierarchy: nothing else sees the record
    logger.addHandler(json_handler("svc", stream))
    try:
        raise exc
    except BaseException:
        logger.log(level, "step failed; retrying", exc_info=True)
    (line,) = stream.getvalue().splitlines()
    return json.loads(line)


@pytest.mark.parametrize(
    "exc",
    [ConnectionRefusedError(111, "Connect call failed"), asyncpg.CannotConnectNowError("the database is starting up")],
)
def test_a_dependency_away_is_one_line_naming_the_error(exc: BaseException) -> None:
    line = _logged(exc)
    assert "exc_info" not in line
    assert line["message"] == f"step failed; retrying ({type(exc).__name__}: {exc})"
    assert line["service"] == "svc"


def test_any_other_error_keeps_its_traceback() -> None:
    line = _logged(ValueError("a bug"))
    assert line["message"] == "step failed; retrying"
    assert "Traceback" in str(line["exc_info"]) and "ValueError: a bug" in str(line["exc_info"])


def test_an_error_level_record_keeps_its_traceback_even_when_transient() -> None:
    line = _logged(ConnectionRefusedError(111, "refused"), logging.ERROR)
    assert "Traceback" in str(line["exc_info"])


def test_a_library_retrying_in_a_loop_is_logged_once_per_ten_seconds() -> None:
    now = [0.0]
    stream = io.StringIO()
    handler = json_handler("svc", stream, clock=lambda: now[0])
    kafka, ours = logging.Logger("aiokafka.conn"), logging.Logger("cohort_runtime.inbox")
    for logger in (kafka, ours):
        logger.addHandler(handler)
    for second in range(25):  # a broker away for 25 s: aiokafka retries every 10 ms
        now[0] = float(second)
        for _ in range(100):
            kafka.error("Unable connect to node with id %s", 1)
        ours.warning("database unavailable; retrying")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    from_kafka = [line["message"] for line in lines if line["logger"] == "aiokafka.conn"]
    assert from_kafka == [
        "Unable connect to node with id 1",
        "Unable connect to node with id 1 (999 more like this held back)",
        "Unable connect to node with id 1 (999 more like this held back)",
    ]
    assert sum(line["logger"] == "cohort_runtime.inbox" for line in lines) == 25, "our own lines are all kept"
