"""A fixed piece of CPU work, timed: recorded beside a benchmark's figures so that a reader can
tell a slower machine (or a busier hour) from a slower build. The work never changes; only the
time it takes does (lower is a faster machine)."""

from __future__ import annotations

import hashlib
import random
import time

_DATA = bytes(random.Random(7).getrandbits(8) for _ in range(64 * 1024))


def calibration_seconds(repeats: int = 3) -> float:
    """The best of `repeats` runs of: 400 SHA-256s of 64 KiB, sorting 200k seeded floats, and a
    500k-step pure-Python loop (hashing, allocation and interpreter speed, like the services)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(400):
            hashlib.sha256(_DATA).digest()
        sorted(random.Random(11).random() for _ in range(200_000))
        total = 0
        for i in range(500_000):
            total += i % 7
        best = min(best, time.perf_counter() - started)
    return round(best, 3)
