"""One chaos run: paced load through a private two-replica platform while faults are injected one
after another, each followed by the time until work flows end to end again; then the backlog
drains, every invariant is checked from the databases and the broker, and a payout run must pay
each expert exactly once.

A fault's recovery time runs from the moment it was injected until a submission stored after it
has been both credited by payout and counted by intake: the whole path works again, not merely a
health check. It is reported whole and from the moment the failed part was back (the killed replica
serving again, the broker or database started again): the latter is the platform's own recovery,
the part a faster broker start-up would not shorten."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import grpc

from cohort.payout.v1 import runs_pb2, runs_pb2_grpc

from . import checks
from .load import RETRYABLE, Load
from .stack import SERVICES, ChaosStack

RECOVERY_LIMIT = 90.0  # seconds a fault may take before the run reports it as not recovered
RESTART_AFTER = 2.0  # seconds a killed replica stays down before it is started again (as by Kubernetes)
POSTGRES_DOWN = 5.0  # seconds the database stays stopped, at least
# A replica stopped (SIGTERM) while the database is away must exit within its two grace periods
# (RPCs, then the rest: 10 s each by default) and a margin, well inside Kubernetes' 30 s.
STOP_LIMIT = 25.0
SETTLE = 3.0  # seconds of normal load between one fault's recovery and the next fault


@dataclass
class Fault:
    kind: str
    target: str
    injected_at: float = 0.0
    back_s: float = 0.0  # until the failed part was back
    recovered_s: float | None = None  # until work flowed end to end again

    @property
    def after_return_s(self) -> float | None:
        return None if self.recovered_s is None else round(self.recovered_s - self.back_s, 1)


@dataclass
class Report:
    faults: list[Fault] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    stops_during_outage: list[tuple[str, float | None]] = field(default_factory=list)


def schedule(rounds: int) -> list[tuple[str, str]]:
    """Every fault kind once per round: each service's replica killed (alternating which one),
    Kafka restarted (SIGTERM, then SIGKILL in odd rounds), PostgreSQL stopped in immediate mode —
    and while it is down, one service's second replica asked to stop (SIGTERM), as a rolling
    update during an outage would."""
    faults: list[tuple[str, str]] = []
    for n in range(rounds):
        faults += [("sigkill", f"{svc}#{n % 2}") for svc in SERVICES]
        faults.append(("kafka-restart", "sigkill" if n % 2 else "sigterm"))
        faults.append(("postgres-stop", f"{SERVICES[(n + 2) % len(SERVICES)]}#1"))
    return faults


class ChaosRun:
    def __init__(self, stack: ChaosStack, load: Load) -> None:
        self.stack = stack
        self.load = load
        self.report = Report()
        self._db: asyncpg.Connection | None = None

    async def _query(self, sql: str, *args: Any) -> Any:
        """One value from the chaos database, reconnecting when it was restarted; None while it is
        away."""
        try:
            if self._db is None or self._db.is_closed():
                self._db = await asyncpg.connect(self.stack.env["COHORT_DATABASE_URL"], timeout=2)
            return await self._db.fetchval(sql, *args, timeout=5)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            if self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.terminate()
            self._db = None
            return None

    async def run(self, rounds: int) -> Report:
        started = time.monotonic()
        self.load.start()
        await asyncio.sleep(10)  # the load reaches its pace before the first fault
        for kind, target in schedule(rounds):
            fault = Fault(kind, target)
            self.report.faults.append(fault)
            await self._inject(fault)
            await asyncio.sleep(SETTLE)
            if kind == "sigkill" and target.startswith("payout") and fault.recovered_s is not None:
                await self._payout_run("during the load")
        await self.load.stop()
        loaded = time.monotonic() - started
        drained_in = await self._drain()
        conn = await asyncpg.connect(self.stack.env["COHORT_DATABASE_URL"])
        try:
            live = {svc: len(self.stack.live(svc)) for svc in SERVICES}
            members = await asyncio.to_thread(self.stack.consumer_group_members)
            self.report.problems += await checks.invariants(
                conn,
                self.stack.env["COHORT_KAFKA_BOOTSTRAP"],
                self.load.project_id,
                self.load.record.acknowledged,
                live,
                members,
            )
            owed = await checks.owed(conn)
            run_id = await self._payout_run("after the chaos")
            if run_id is None:
                self.report.problems.append("the payout run after the chaos did not complete")
            else:
                self.report.problems += await checks.payout_run_pays_once(conn, run_id, owed)
            self.report.problems += await checks.stuck(conn)
            stored = await conn.fetchval(
                "SELECT count(*) FROM tasking.submissions WHERE project_id = $1", self.load.project_id
            )
            in_review = await conn.fetchval(
                "SELECT count(*) FROM qa.submissions WHERE project_id = $1 AND state = 'in_review'",
                self.load.project_id,
            )
        finally:
            await conn.close()
        if self._db is not None:
            await self._db.close()
        rec = self.load.record
        self.report.problems += [f"a client was answered {line}" for line in rec.internal[:20]]
        self.report.problems += [
            f"{f.kind} {f.target}: not recovered within {RECOVERY_LIMIT:.0f} s"
            for f in self.report.faults
            if f.recovered_s is None
        ]
        self.report.problems += [
            f"{target} did not exit within {STOP_LIMIT:.0f} s of SIGTERM while the database was away"
            for target, seconds in self.report.stops_during_outage
            if seconds is None
        ]
        self.report.figures = {
            "rounds": rounds,
            "faults": len(self.report.faults),
            "load_seconds": round(loaded),
            "offered_cycles_per_second": self.load.rate,
            "experts": len(self.load.experts),
            "submissions_stored": stored,
            "submissions_acknowledged": len(rec.acknowledged),
            "submissions_in_review": in_review,
            "submissions_retried": rec.retried_submits,
            "leases_abandoned": rec.abandoned,
            "refused": dict(rec.refused),
            "failed_attempts": dict(sorted(rec.codes.items())),
            "lab_progress_reads": rec.progress_reads,
            "drain_seconds": round(drained_in, 1),
            "recovery_seconds": _recovery_by_kind(self.report.faults),
            "sigterm_exit_seconds_during_db_outage": [list(stop) for stop in self.report.stops_during_outage],
            "replica_starts": {f"{svc}#{r.index}": r.starts for svc in SERVICES for r in self.stack.members[svc]},
            "problems": len(self.report.problems),
        }
        return self.report

    async def _inject(self, fault: Fault) -> None:
        baseline = await self._wait_for(lambda: self._query(_STORED), 30) or 0
        fault.injected_at = time.monotonic()
        wall = checks.utc_now()
        restarted: list[Awaitable[None]] = []
        if fault.kind == "sigkill":
            svc, index = fault.target.split("#")
            replica = self.stack.replica(svc, int(index))
            await asyncio.to_thread(self.stack.kill, replica)
            restarted.append(self._restart_later(replica))
        elif fault.kind == "kafka-restart":
            await asyncio.to_thread(self.stack.restart_kafka, hard=fault.target == "sigkill")
        elif fault.kind == "postgres-stop":
            await asyncio.to_thread(self.stack.stop_postgres)
            svc, index = fault.target.split("#")
            replica = self.stack.replica(svc, int(index))
            exited = await asyncio.to_thread(self.stack.stop_timed, replica, STOP_LIMIT)
            self.report.stops_during_outage.append((fault.target, None if exited is None else round(exited, 1)))
            await asyncio.sleep(max(0.0, POSTGRES_DOWN - (time.monotonic() - fault.injected_at)))
            await asyncio.to_thread(self.stack.start_postgres)
            fault.back_s = round(time.monotonic() - fault.injected_at, 1)  # the database, not the replica
            restarted.append(self._restart_later(replica))
        await asyncio.gather(*restarted)
        fault.back_s = fault.back_s or round(time.monotonic() - fault.injected_at, 1)

        async def flowing() -> bool:
            credited = await self._query(_CREDITED_SINCE, self.load.project_id, wall)
            counted = await self._query(_COUNTED, self.load.project_id)
            return bool(credited) and counted is not None and counted > baseline

        if await self._wait_for(flowing, RECOVERY_LIMIT - (time.monotonic() - fault.injected_at)):
            fault.recovered_s = round(time.monotonic() - fault.injected_at, 1)

    async def _restart_later(self, replica: Any) -> None:
        await asyncio.sleep(RESTART_AFTER)
        await self.stack.start_replica(replica)

    @staticmethod
    async def _wait_for(check: Callable[[], Awaitable[Any]], seconds: float) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if value := await check():
                return value
            await asyncio.sleep(0.25)
        return None

    async def _drain(self, seconds: float = 180.0) -> float:
        """Wait until nothing is on its way any more; how long that took."""
        t0 = time.monotonic()
        bootstrap = self.stack.env["COHORT_KAFKA_BOOTSTRAP"]
        conn = await asyncpg.connect(self.stack.env["COHORT_DATABASE_URL"])
        try:
            while time.monotonic() - t0 < seconds:
                if (await checks.backlog(conn, bootstrap, self.load.project_id)).empty:
                    break
                await asyncio.sleep(1)
        finally:
            await conn.close()
        return time.monotonic() - t0

    async def _payout_run(self, when: str) -> str | None:
        """CreatePayoutRun as an operator would: retried with the same request id on the next
        replica until it answers; the run's id once completed."""
        request = runs_pb2.CreatePayoutRunRequest(request_id=str(uuid.uuid4()), currency_code="EUR", min_amount_minor=1)
        replicas = self.load.replicas("payout")
        try:
            for _attempt in range(20):
                stub = runs_pb2_grpc.PayoutAdminServiceStub(replicas.next())
                try:
                    reply = await stub.CreatePayoutRun(request, metadata=self.load.operator, timeout=30)
                except grpc.aio.AioRpcError as exc:
                    self.load._failed(f"CreatePayoutRun ({when})", exc)
                    if exc.code() not in RETRYABLE:
                        self.report.problems.append(f"CreatePayoutRun {when}: {exc.code().name}: {exc.details()}")
                        return None
                    await asyncio.sleep(1)
                    continue
                if reply.run.state != runs_pb2.PAYOUT_RUN_STATE_COMPLETED:
                    self.report.problems.append(f"the payout run {when} answered state {reply.run.state}")
                    return None
                return reply.run.run_id
            return None
        finally:
            await replicas.close()


_STORED = "SELECT count(*) + 1 FROM tasking.submissions"  # + 1: a truthy value on an empty table
_CREDITED_SINCE = """
    SELECT EXISTS (
      SELECT 1 FROM payout.transactions t
      JOIN tasking.submissions s ON t.idempotency_key = 'decided:' || s.submission_id::text
      WHERE t.kind = 'earning_accepted' AND t.post_time > $2 AND s.project_id = $1 AND s.submit_time > $2)"""
_COUNTED = "SELECT submissions_received + 1 FROM intake.progress WHERE project_id = $1"


def _recovery_by_kind(faults: list[Fault]) -> dict[str, dict[str, float | int | None]]:
    by_kind: dict[str, list[Fault]] = {}
    for f in faults:
        what = "immediate" if f.kind == "postgres-stop" else f.target.split("#")[0]
        by_kind.setdefault(f"{f.kind} {what}", []).append(f)

    def worst(values: list[float | None]) -> float | None:
        return None if None in values else max(v for v in values if v is not None)

    return {
        kind: {
            "count": len(fs),
            "back_max": max(f.back_s for f in fs),
            "recovered_max": worst([f.recovered_s for f in fs]),
            "after_return_max": worst([f.after_return_s for f in fs]),
        }
        for kind, fs in sorted(by_kind.items())
    }
