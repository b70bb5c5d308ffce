"""A service stops as soon as its loops have stopped, not when the grace period runs out: every
loop is either stopped (consumers, relay) or cancelled (background jobs). A loop that is neither
held each stop for the whole grace (the inbox's retention job did: 10 s per stop)."""

from __future__ import annotations

import time

from cohort_qa.bootstrap import definition
from cohort_qa.config import QASettings
from cohort_runtime import ServiceRuntime

GRACE = 30.0


async def test_a_stop_does_not_wait_out_the_grace_period(schema, token_keys, events) -> None:
    settings = QASettings(
        db_schema=schema,
        grpc_port=0,
        metrics_port=0,
        shutdown_grace_seconds=GRACE,
        COHORT_TOKEN_PUBLIC_KEY=token_keys[1],
    )
    runtime = ServiceRuntime(definition(settings))
    await runtime.start()
    began = time.monotonic()
    await runtime.stop()
    took = time.monotonic() - began
    # A third of the grace: a loop left waiting would take all of it (the stop itself takes ~0.1 s).
    assert took < GRACE / 3, f"stopping took {took:.1f} s of a {GRACE:.0f} s grace"
