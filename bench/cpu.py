"""Where a benchmark's CPU went: the whole machine's busy time, and per process of the local stack.

Linux only (/proc). The local stack (deploy/local) writes each service's and Kafka's PID to
.local/run/<name>.pid and PostgreSQL's to postmaster.pid; PostgreSQL's CPU is its postmaster
and every backend, read from the children of that PID. Processes that end during a measurement
(a closed backend) take their CPU with them, so the per-process figures are lower bounds.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / ".local"
TICK = os.sysconf("SC_CLK_TCK")


def _process_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _machine_busy_seconds() -> float:
    # user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def stack_processes() -> dict[str, list[int]]:
    """The local stack's processes by name (those running): services, kafka, postgres."""
    found: dict[str, list[int]] = {}
    for pid_file in sorted((LOCAL / "run").glob("*.pid")):
        try:
            found[pid_file.stem] = [int(pid_file.read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            continue
    for postmaster in LOCAL.glob("pg/*/postmaster.pid"):
        try:
            pid = int(postmaster.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        found["postgres"] = [pid, *_children(pid)]
    return found


@dataclass
class CpuMeter:
    """CPU seconds spent between start() and stop(): the machine's, this process's (the client),
    and each stack process's (PostgreSQL's backends found again at stop, to count new ones)."""

    processes: dict[str, list[int]]

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._machine0 = _machine_busy_seconds()
        self._client0 = time.process_time()
        self._at_start = {pid: _process_seconds(pid) for pids in self.processes.values() for pid in pids}

    def stop(self) -> dict[str, float]:
        """Share of one core used by each, over the measured interval."""
        wall = time.perf_counter() - self._t0
        used = {
            "machine": _machine_busy_seconds() - self._machine0,
            "client": time.process_time() - self._client0,
        }
        processes = {**self.processes, **{k: v for k, v in stack_processes().items() if k == "postgres"}}
        for name, pids in processes.items():
            used[name] = sum(_process_seconds(pid) - self._at_start.get(pid, 0.0) for pid in pids)
        return {name: seconds / wall for name, seconds in used.items()}


def describe(cores: dict[str, float], cycles_per_second: float) -> str:
    """'machine 1.95 cores = 8.1 ms per cycle; postgres 0.61 (2.5 ms), ...'."""
    parts = []
    for name, share in sorted(cores.items(), key=lambda kv: (kv[0] != "machine", -kv[1])):
        per_cycle = share / cycles_per_second * 1000 if cycles_per_second else float("nan")
        parts.append(f"{name} {share:.2f} cores ({per_cycle:.2f} ms/cycle)")
    return "; ".join(parts)
