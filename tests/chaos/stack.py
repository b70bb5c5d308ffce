"""A private platform for the chaos suite: its own PostgreSQL cluster and Kafka broker (on ports of
their own, under .local/chaos, so the rest of the test suite's servers are never touched), and
every service as separate OS processes with two replicas each, so that a replica can be killed
with SIGKILL exactly as a node failure would, by its PID."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cohort_runtime.probe import wait_serving

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "deploy" / "local"
SERVICES = ("intake", "tasking", "qa", "payout")
# Ports of the private stack: clear of the local stack's (`make up`) and of the test suite's.
KAFKA_PORT, KAFKA_CONTROLLER_PORT, PG_PORT = 19192, 19193, 15532
_GRPC_BASE, _METRICS_BASE = 16050, 9200


def grpc_port(service: str, replica: int) -> int:
    return _GRPC_BASE + 10 * replica + SERVICES.index(service) + 1


def metrics_port(service: str, replica: int) -> int:
    return _METRICS_BASE + 10 * replica + SERVICES.index(service) + 1


@dataclass
class Replica:
    service: str
    index: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{grpc_port(self.service, self.index)}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class ChaosStack:
    """`await stack.start()` … `await stack.stop()`; `stack.env` is what points a process at it."""

    home: Path = ROOT / ".local" / "chaos"
    replicas: int = 2
    service_env: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[Replica]] = field(default_factory=dict)

    def _script_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
        env.update(
            COHORT_LOCAL=str(self.home),
            COHORT_KAFKA_PORT=str(KAFKA_PORT),
            COHORT_KAFKA_CONTROLLER_PORT=str(KAFKA_CONTROLLER_PORT),
            COHORT_PG_PORT=str(PG_PORT),
        )
        return env

    def script(self, name: str, *args: str) -> str:
        """Run deploy/local/<name>.sh with this stack's folder and ports; its standard output."""
        done = subprocess.run(
            ["bash", str(LOCAL / f"{name}.sh"), *args],
            env=self._script_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name}.sh {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout

    async def start(self) -> None:
        await asyncio.to_thread(self._fresh_infra)
        self.env = await asyncio.to_thread(self._stack_env)
        self.members = {svc: [Replica(svc, i) for i in range(self.replicas)] for svc in SERVICES}
        for svc in SERVICES:  # in this order: each consumes what the one before publishes
            await asyncio.gather(*(self.start_replica(r) for r in self.members[svc]))

    def _stack_env(self) -> dict[str, str]:
        """What `stack.sh env` exports (keys, database URL, broker), as bash itself reads it."""
        done = subprocess.run(
            ["bash", "-c", 'eval "$(bash "$0" env)" && env -0', str(LOCAL / "stack.sh")],
            env=self._script_env(),
            capture_output=True,
            check=True,
        )
        pairs = (item.decode().partition("=") for item in done.stdout.split(b"\0") if item)
        return {name: value for name, _, value in pairs if name.startswith("COHORT_")}

    def _fresh_infra(self) -> None:
        """A new cluster and broker every run: what the checks read is this run's alone. Replicas an
        interrupted run left behind are stopped first, by the PIDs it recorded."""
        for pid_file in (self.home / "run").glob("replica-*.pid"):
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        with contextlib.suppress(RuntimeError):
            self.script("stack", "infra-down")
        shutil.rmtree(self.home, ignore_errors=True)
        # The broker's jars as `make setup` resolved them for the local stack: linked, not copied.
        jars = ROOT / ".local" / "kafka" / "libs"
        if jars.is_dir():
            (self.home / "kafka").mkdir(parents=True)
            (self.home / "kafka" / "libs").symlink_to(jars)
        self.script("stack", "infra-up")

    async def stop(self) -> None:
        for replicas in self.members.values():
            for replica in replicas:
                await asyncio.to_thread(self._terminate, replica)
        await asyncio.to_thread(self.script, "stack", "infra-down")

    def replica(self, service: str, index: int) -> Replica:
        return self.members[service][index]

    def live(self, service: str) -> list[Replica]:
        return [r for r in self.members[service] if r.alive]

    async def start_replica(self, replica: Replica, *, wait: float = 90.0) -> None:
        """Start the replica's process and wait until its health check answers SERVING."""
        assert not replica.alive, f"{replica.service}#{replica.index} is running"
        svc, upper = replica.service, replica.service.upper()
        env = {
            **self._script_env(),
            **self.env,
            **self.service_env,
            f"COHORT_{upper}_GRPC_PORT": str(grpc_port(svc, replica.index)),
            f"COHORT_{upper}_METRICS_PORT": str(metrics_port(svc, replica.index)),
        }
        log = (self.home / "logs" / f"{svc}-{replica.index}.log").open("ab")
        replica.process = subprocess.Popen(  # noqa: ASYNC220 - a daemon started, not waited for
            [str(ROOT / ".venv" / "bin" / "python"), "-m", f"cohort_{svc}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        (self.home / "run" / f"replica-{svc}-{replica.index}.pid").write_text(str(replica.process.pid))
        replica.starts += 1
        if not await wait_serving(replica.address, wait):
            raise RuntimeError(f"{svc}#{replica.index} did not become healthy; see {log.name}")

    def kill(self, replica: Replica) -> None:
        """SIGKILL, as a node failure: no graceful stop, no goodbye to the consumer group."""
        assert replica.process is not None
        replica.process.send_signal(signal.SIGKILL)
        replica.process.wait(30)

    def stop_timed(self, replica: Replica, limit: float) -> float | None:
        """SIGTERM, as Kubernetes stops a pod: seconds until the process exited, or None when it
        had not after `limit` (then it is killed)."""
        assert replica.process is not None
        started = time.monotonic()
        replica.process.terminate()
        try:
            replica.process.wait(limit)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait(30)
            return None
        return time.monotonic() - started

    @staticmethod
    def _terminate(replica: Replica) -> None:
        if replica.alive:
            assert replica.process is not None
            replica.process.terminate()
            try:
                replica.process.wait(30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait(30)

    # The infrastructure's faults.

    def restart_kafka(self, *, hard: bool) -> None:
        """Stop the broker (SIGTERM, or SIGKILL when `hard`) and start it again."""
        if hard:
            pid = int((self.home / "run" / "kafka.pid").read_text())
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
        self.script("kafka", "stop")
        self.script("kafka", "start")

    def stop_postgres(self) -> None:
        """Immediate mode: the server aborts, as on a crash; WAL replay at the next start."""
        self.script("postgres", "stop", "immediate")

    def start_postgres(self) -> None:
        self.script("postgres", "start")

    def consumer_group_members(self) -> dict[str, int]:
        """Members of every consumer group, as the broker sees them. Asked with Kafka's own tool:
        aiokafka 0.14 cannot decode a Kafka 4 broker's DescribeGroups answer."""
        done = subprocess.run(
            [
                "java",
                "-cp",
                str(self.home / "kafka" / "libs" / "*"),
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                "--bootstrap-server",
                f"127.0.0.1:{KAFKA_PORT}",
                "--describe",
                "--all-groups",
                "--members",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        members: dict[str, int] = {}
        for line in done.stdout.splitlines():
            words = line.split()
            if not words or words[0] == "GROUP":
                continue
            if line.startswith("Consumer group '") and "has no active members" in line:
                members[line.split("'")[1]] = 0
            elif len(words) >= 5:
                members[words[0]] = members.get(words[0], 0) + 1
        return members

    def logs(self) -> dict[str, str]:
        return {p.stem: p.read_text(errors="replace") for p in sorted((self.home / "logs").glob("*-*.log"))}


def _wait_gone(pid: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
