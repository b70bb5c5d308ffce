"""The chaos suite, short: one round of every fault kind under paced load on a private two-replica
platform, then every invariant checked. `make chaos` runs more rounds and records the figures in
docs/RELIABILITY.md (COHORT_CHAOS_ROUNDS, COHORT_CHAOS_RATE, COHORT_CHAOS_RECORD=1)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

from .chaos.load import Load
from .chaos.run import ChaosRun
from .chaos.stack import ChaosStack

ROUNDS = int(os.environ.get("COHORT_CHAOS_ROUNDS", "1"))
RATE = float(os.environ.get("COHORT_CHAOS_RATE", "30"))
EXPERTS = 40
# QA's pace check let through: simulated experts answer within milliseconds.
RELAXED_QA = {
    "COHORT_QA_MIN_SECONDS": "0",
    "COHORT_QA_MAX_TYPING_CHARS_PER_SECOND": "1e9",
    "COHORT_QA_MAX_READING_CHARS_PER_SECOND": "1e9",
}
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(600 + 600 * ROUNDS)
async def test_nothing_lost_doubled_or_stuck_under_faults() -> None:
    stack = ChaosStack(service_env=RELAXED_QA)
    try:
        await stack.start()
        load = Load(stack, experts=EXPERTS, rate=RATE, tasks=int(RATE * 240 * ROUNDS) + 2000)
        await load.prepare()
        report = await ChaosRun(stack, load).run(ROUNDS)
        tracebacks = {name: text.count("Traceback") for name, text in stack.logs().items()}
    finally:
        await stack.stop()
    report.figures["tracebacks_logged"] = {k: v for k, v in tracebacks.items() if v}
    print(json.dumps(report.figures, indent=2))  # noqa: T201 - the run's figures, for `make chaos`
    if os.environ.get("COHORT_CHAOS_RECORD") == "1":
        record(report.figures)
    assert not report.problems, "\n".join(report.problems)
    # Every fault was followed by work flowing end to end again (a problem above otherwise, after
    # 90 s). The 30 s target is a performance figure: `make chaos` checks it on its recorded run,
    # the short round in `make test` does not time the machine it happens to run on.
    if os.environ.get("COHORT_CHAOS_RECORD") == "1":
        recovery = report.figures["recovery_seconds"]
        slow = {kind: r["after_return_max"] for kind, r in recovery.items() if r["after_return_max"] > 30}
        assert not slow, f"recovery over 30 s after the failed part was back: {slow}"


def record(figures: dict[str, object]) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    entry = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"), "commit": commit.strip(), **figures}
    with (ROOT / "docs" / "RELIABILITY.md").open("a") as f:
        f.write(f"\n<!-- make chaos -->\n`{json.dumps(entry)}`\n")
