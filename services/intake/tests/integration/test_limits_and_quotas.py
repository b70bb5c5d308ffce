"""Limits at intake's edge and a quota in its database: API-key guessing from one address stops
before its keys are looked up, a caller's request rate is capped, and a lab's projects per hour are
counted across replicas (two intake processes on one schema). Each answers RESOURCE_EXHAUSTED with
how long to wait."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from cohort.intake.v1 import projects_pb2 as pb

from ..spec_factory import valid_spec


def _details(err: grpc.aio.AioRpcError) -> tuple[error_details_pb2.RetryInfo, error_details_pb2.QuotaFailure]:
    raw = dict(err.trailing_metadata() or ())["grpc-status-details-bin"]
    retry, quota = error_details_pb2.RetryInfo(), error_details_pb2.QuotaFailure()
    for detail in status_pb2.Status.FromString(raw).details:
        detail.Unpack(retry) or detail.Unpack(quota)
    return retry, quota


async def _refused(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value


async def test_key_guessing_stops_before_the_lookup(make_intake):
    async with make_intake(auth_failures_per_minute=3) as intake:
        _lab_id, lab = await intake.new_lab()
        for _ in range(3):
            guess = (("authorization", f"Bearer ck_{uuid.uuid4().hex}_{uuid.uuid4().hex}"),)
            err = await _refused(intake.projects.ListProjects(pb.ListProjectsRequest(), metadata=guess))
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED
        # From this address even a good key now waits: nothing is looked up until the minute ends.
        err = await _refused(intake.projects.ListProjects(pb.ListProjectsRequest(), metadata=lab))
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        retry, quota = _details(err)
        assert 0 < retry.retry_delay.seconds <= 60 and quota.violations[0].subject == "address:127.0.0.1"


async def test_a_callers_rate_is_capped(make_intake):
    async with make_intake(rate_limit_per_second=1, rate_limit_burst=3) as intake:
        _lab_id, lab = await intake.new_lab()
        replies = await asyncio.gather(
            *(intake.projects.ListProjects(pb.ListProjectsRequest(), metadata=lab) for _ in range(6)),
            return_exceptions=True,
        )
        refused = [r for r in replies if isinstance(r, grpc.aio.AioRpcError)]
        assert 3 <= len(refused) <= 4, "the burst of 3 (and at most one refilled) passes"
        assert {r.code() for r in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}


async def test_projects_per_hour_hold_across_replicas(make_intake):
    async with make_intake(projects_per_lab_per_hour=2) as first, make_intake(projects_per_lab_per_hour=2) as second:
        _lab_id, lab = await first.new_lab()
        other_replica = second.projects
        request_id, spec = str(uuid.uuid4()), valid_spec()
        await first.projects.CreateProject(pb.CreateProjectRequest(request_id=request_id, spec=spec), metadata=lab)
        await other_replica.CreateProject(
            pb.CreateProjectRequest(request_id=str(uuid.uuid4()), spec=valid_spec()), metadata=lab
        )
        err = await _refused(
            first.projects.CreateProject(
                pb.CreateProjectRequest(request_id=str(uuid.uuid4()), spec=valid_spec()), metadata=lab
            )
        )
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "2 projects in the last hour" in err.details()
        retry, quota = _details(err)
        assert 3500 <= retry.retry_delay.seconds <= 3600 and quota.violations[0].subject.endswith("/projects-per-hour")
        # A retry of a request that went through is still answered: it creates nothing new.
        again = await other_replica.CreateProject(
            pb.CreateProjectRequest(request_id=request_id, spec=spec), metadata=lab
        )
        assert again.project.project_id
        assert await first.pool.fetchval("SELECT count(*) FROM projects") == 2
