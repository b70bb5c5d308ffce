"""The shipped examples are valid: every example spec and its tasks make a project intake accepts
and activates, and `cohort project init` prints a spec that parses with a deadline ahead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest
from cohort_client import AsyncLabClient
from cohort_client.cli import KINDS, app
from cohort_client.lab import spec_from_dict, spec_from_file, tasks_from_jsonl
from typer.testing import CliRunner

from cohort.intake.v1 import projects_pb2

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_every_data_kind_has_an_example():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_project_init_prints_the_example_with_a_deadline_ahead(kind):
    import yaml

    result = CliRunner().invoke(app, ["project", "init", "--kind", kind])
    assert result.exit_code == 0, result.output
    spec = spec_from_dict(yaml.safe_load(result.output))
    assert spec.deadline.ToDatetime(tzinfo=dt.UTC) > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    assert spec.title == spec_from_file(EXAMPLES / kind / "spec.yaml").title


async def test_each_example_makes_a_project_intake_activates(services, onboard):
    async with services("intake") as running:
        address = f"127.0.0.1:{running['intake'].grpc_port}"
        async with grpc.aio.insecure_channel(address) as channel:
            lab = await onboard.lab(channel)
        api_key = dict(lab)["authorization"].removeprefix("Bearer ")
        async with AsyncLabClient(address, api_key) as client:
            for kind in KINDS:
                project = await client.create_project(spec_from_file(EXAMPLES / kind / "spec.yaml"))
                tasks = list(tasks_from_jsonl(EXAMPLES / kind / "tasks.jsonl"))
                added, _unchanged = await client.add_tasks(project.project_id, tasks)
                assert added == len(tasks), kind
                active = await client.activate(project.project_id)
                assert active.state == projects_pb2.PROJECT_STATE_ACTIVE, kind
