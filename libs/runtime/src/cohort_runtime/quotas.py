"""Request rate limits at the gRPC edge: a token bucket per authenticated caller, and a throttle on
failed authentication per client address.

Both are kept in each replica's memory, on purpose: they answer floods and guessing before any
database work, which is the work an attacker wants to cause (a shared counter would cost a write per
guessed key). With N replicas behind a balancer a caller gets up to N times the per-replica rate;
the limits are sized for that. Quotas that must hold across replicas (projects a lab creates per
hour, say) are counted in the service's database, where the data already is.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Callers (or addresses) remembered per replica; the least recently seen are forgotten first.
_MAX_KEYS = 100_000


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """At most `rate` requests a second per key, with bursts up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when the request may go on; otherwise the seconds until it would be allowed."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > _MAX_KEYS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


class FailureThrottle:
    """After `limit` failed authentications from one address within `window` seconds, further
    attempts from it are refused until the window has passed, without being looked at."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # address -> (count, window start)

    def blocked_for(self, address: str) -> float:
        """Seconds until `address` may try again (0: it may now)."""
        entry = self._failures.get(address)
        if entry is None:
            return 0.0
        count, start = entry
        left = start + self.window - self._clock()
        if left <= 0:
            del self._failures[address]
            return 0.0
        return left if count >= self.limit else 0.0

    def failed(self, address: str) -> None:
        now = self._clock()
        count, start = self._failures.get(address, (0, now))
        if now - start >= self.window:
            count, start = 0, now
        self._failures[address] = (count + 1, start)
        self._failures.move_to_end(address)
        if len(self._failures) > _MAX_KEYS:
            self._failures.popitem(last=False)


def peer_address(peer: str | None) -> str:
    """The address part of a gRPC peer string ('ipv4:10.0.0.7:51234', 'ipv6:[::1]:5000')."""
    if not peer:
        return "unknown"
    kind, _, rest = peer.partition(":")
    if kind == "ipv6" and rest.startswith("["):
        return rest[1 : rest.find("]")]
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    return peer


class TrustedProxies:
    """The networks of the proxies (an ingress) whose word on the client's address is believed; a
    client anywhere else could write any address into a forwarded-for header."""

    def __init__(self, networks: str) -> None:
        self._networks = [ipaddress.ip_network(n.strip(), strict=False) for n in networks.split(",") if n.strip()]

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the last forwarded-for hop when `peer` is a trusted proxy."""
        if forwarded_for and self._trusted(peer):
            hop = forwarded_for.split(",")[-1].strip()
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
        return peer

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


@dataclass
class EdgeLimits:
    """What the gRPC edge enforces before a request reaches a servicer."""

    requests: RateLimiter
    failures: FailureThrottle
    proxies: TrustedProxies
