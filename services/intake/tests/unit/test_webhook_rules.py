"""Webhook rules on their own: where a delivery may go, when it is retried, which milestones and
cost steps a change crosses, what makes an endpoint valid."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from cohort_intake.domain.webhooks import (
    cost_step_crossed,
    milestones_crossed,
    new_secret,
    problems,
    refused_address,
    retry_delay,
)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fd00::1",
     "0.0.0.0", "224.0.0.1", "100.64.0.1"],  # noqa: S104 - an address to refuse, not one to bind
)  # fmt: skip
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address):
    assert refused_address(address, ()) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert refused_address(address, ()) is None


def test_an_allowed_network_opens_only_itself():
    assert refused_address("127.0.0.1", ("127.0.0.0/8",)) is None
    assert refused_address("10.0.0.1", ("127.0.0.0/8",)) is not None


def test_retries_follow_the_schedule_with_jitter_then_stop():
    schedule = (5.0, 300.0, 1800.0)
    rng = random.Random(1)
    for attempts, base in enumerate(schedule, 1):
        delay = retry_delay(attempts, schedule, rng)
        assert delay is not None and 0.8 * base <= delay <= 1.2 * base
    assert retry_delay(len(schedule) + 1, schedule, rng) is None


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(1, 500))
def test_each_milestone_is_crossed_exactly_once_on_the_way_up(a, b, target):
    low, high = min(a, b), max(a, b)
    mid = (low + high) // 2
    stepwise = milestones_crossed(low, mid, target) + milestones_crossed(mid, high, target)
    assert stepwise == milestones_crossed(low, high, target)
    assert all(low * 100 < m * target <= high * 100 for m in stepwise)


def test_cost_steps_are_tenths_of_the_cap():
    assert cost_step_crossed(0, 99, 1000) is False
    assert cost_step_crossed(99, 100, 1000) is True
    assert cost_step_crossed(150, 150, 1000) is False


def test_endpoint_problems_name_their_fields():
    assert problems("https://lab.example/hooks", ["items.delivered"], "") == []
    fields = {v.field for v in problems("http://", [], "x" * 501)}
    assert fields == {"endpoint.url", "endpoint.event_types", "endpoint.description"}


def test_a_new_secret_is_a_standard_webhooks_secret():
    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    Webhook(secret)  # parses as one
