"""The edge's rate limiter, failed-authentication throttle and client address, on a fake clock."""

from __future__ import annotations

from cohort_runtime.quotas import FailureThrottle, RateLimiter, TrustedProxies, peer_address


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.take("lab:a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("lab:a") == 0.5, "one token comes back every half second"
    assert limiter.take("lab:b") == 0, "each caller has a bucket of its own"
    clock.now += 0.5
    assert limiter.take("lab:a") == 0
    clock.now += 60
    assert [limiter.take("lab:a") for _ in range(4)][-1] > 0, "a long pause refills to the burst, no more"


def test_failures_block_an_address_for_the_rest_of_the_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=3, window=60, clock=clock)
    for _ in range(2):
        throttle.failed("10.0.0.7")
    assert throttle.blocked_for("10.0.0.7") == 0
    clock.now += 10
    throttle.failed("10.0.0.7")
    assert throttle.blocked_for("10.0.0.7") == 50, "blocked until the window that began with the first failure ends"
    assert throttle.blocked_for("10.0.0.8") == 0
    clock.now += 50
    assert throttle.blocked_for("10.0.0.7") == 0
    throttle.failed("10.0.0.7")
    assert throttle.blocked_for("10.0.0.7") == 0, "a new window counts afresh"


def test_peer_strings_and_forwarded_addresses() -> None:
    assert peer_address("ipv4:10.1.2.3:51234") == "10.1.2.3"
    assert peer_address("ipv6:[::1]:5000") == "::1"
    assert peer_address("unix:/tmp/s") == "unix:/tmp/s"
    assert peer_address(None) == "unknown"
    proxies = TrustedProxies("10.0.0.0/8")
    assert proxies.client("10.9.9.9", "203.0.113.5, 198.51.100.7") == "198.51.100.7", "the hop the proxy saw"
    assert proxies.client("192.0.2.1", "203.0.113.5") == "192.0.2.1", "an untrusted peer's header is ignored"
    assert proxies.client("10.9.9.9", "not an address") == "10.9.9.9"
