"""The workbench's other kinds of work and account features over HTTP, in front of the real
services: a trajectory with its step editor's fields, an adversarial prompt, two-step sign-in
(enrol, sign in with a code, a code used twice refused), and the profile."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlparse

import httpx
import pyotp

from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort.workbench.v1 import accounts_pb2, accounts_pb2_grpc

from .conftest import csrf_of, open_project

PASSWORD = "copper-meadow-falcon-81"


async def _joined(stack, onboard, client: httpx.AsyncClient, name: str) -> str:
    expert, _ = await onboard.expert(stack.tasking)
    reply = await accounts_pb2_grpc.AccountAdminServiceStub(stack.admin).InviteExpert(
        accounts_pb2.InviteExpertRequest(expert_id=expert), metadata=onboard.operator
    )
    joined = await client.post(
        urlparse(reply.invitation_url).path,
        data={"sign_in_name": name, "password": PASSWORD, "password_again": PASSWORD},
    )
    assert joined.status_code == 303
    return expert


async def _start(client: httpx.AsyncClient, project_id: str) -> tuple[str, str]:
    """Lease a task of the project, once tasking has heard of its activation (over Kafka)."""
    token = csrf_of((await client.get("/")).text)
    for _ in range(300):
        started = await client.post("/work/start", data={"csrf_token": token, "project_id": project_id})
        assert started.status_code == 303
        if started.headers["location"].startswith("/work/"):
            return started.headers["location"], token
        await asyncio.sleep(0.1)
    raise AssertionError("no task was offered")


async def test_trajectory_and_adversarial_work(workbench_stack, onboard) -> None:
    async with workbench_stack() as stack, httpx.AsyncClient() as client:
        client.base_url = stack.base_url
        lab = await onboard.lab(stack.intake)
        prompt = ttypes.TaskInput(prompt="Find the boiling point of ethanol with the tools.")
        trajectory = await open_project(
            stack.intake, onboard, lab, [tpb.NewTask(task_id="tr1", input=prompt)],
            data_kind=types.DATA_KIND_TRAJECTORY, priority=90,
        )  # fmt: skip
        adversarial = await open_project(
            stack.intake, onboard, lab,
            [tpb.NewTask(task_id="ad1", input=ttypes.TaskInput(prompt="Target: unit conversions."))],
            data_kind=types.DATA_KIND_ADVERSARIAL_PROMPT, priority=10,
        )  # fmt: skip
        await _joined(stack, onboard, client, "ada")

        path, token = await _start(client, trajectory)
        page = await client.get(path)
        assert 'name="steps-0-kind"' in page.text and 'id="add-step"' in page.text
        # An action without arguments is refused next to its step; every step typed comes back.
        bad = {
            "csrf_token": token,
            "steps-0-kind": "thought",
            "steps-0-content": "Look it up.",
            "steps-1-kind": "action",
            "steps-1-content": "",
            "steps-1-tool_name": "",
            "final_answer": "78.37 °C",
        }
        refused = await client.post(f"{path}/submit", data=bad)
        assert refused.status_code == 422
        assert 'id="steps-1-error"' in refused.text and "Look it up." in refused.text
        good = {**bad, "steps-1-tool_name": "search", "steps-1-tool_arguments_json": '{"q": "ethanol"}'}
        good |= {"steps-2-kind": "observation", "steps-2-content": "78.37 °C at 1 atm"}
        assert (await client.post(f"{path}/submit", data=good)).status_code == 303
        rows = await stack.running["tasking"].pool.fetch("SELECT payload FROM submissions")
        assert len(rows) == 1

        path, token = await _start(client, adversarial)
        missing = await client.post(f"{path}/submit", data={"csrf_token": token, "prompt": "Convert 3 ft to m."})
        assert missing.status_code == 422 and 'id="reference-error"' in missing.text
        assert "Convert 3 ft to m." in missing.text
        answer = {
            "csrf_token": token,
            "prompt": "Convert 3 ft to m.",
            "reference": "0.9144 m",
            "failure": "It answers 0.91 m and claims it is exact.",
        }
        assert (await client.post(f"{path}/submit", data=answer)).status_code == 303
        assert await stack.running["tasking"].pool.fetchval("SELECT count(*) FROM submissions") == 2


async def test_two_step_sign_in_and_the_profile(workbench_stack, onboard) -> None:
    async with workbench_stack() as stack, httpx.AsyncClient() as client:
        client.base_url = stack.base_url
        expert = await _joined(stack, onboard, client, "grace")

        enrol = await client.get("/profile/two-step")
        secret = re.search(r'name="secret" value="([A-Z2-7]{32})"', enrol.text).group(1)  # type: ignore[union-attr]
        token = csrf_of(enrol.text)
        wrong = await client.post("/profile/two-step", data={"csrf_token": token, "secret": secret, "code": "000000"})
        assert wrong.status_code == 422 and 'id="code-error"' in wrong.text
        code = pyotp.TOTP(secret).now()
        assert (
            await client.post("/profile/two-step", data={"csrf_token": token, "secret": secret, "code": code})
        ).status_code == 303

        client.cookies.clear()
        no_code = await client.post("/sign-in", data={"sign_in_name": "grace", "password": PASSWORD})
        assert no_code.status_code == 401 and "6-digit code" in no_code.text
        # The code used to enrol is spent: the same time step is refused; the next one works.
        again = await client.post("/sign-in", data={"sign_in_name": "grace", "password": PASSWORD, "totp_code": code})
        assert again.status_code == 401
        totp = pyotp.TOTP(secret)
        later = totp.at(totp.timecode(__import__("datetime").datetime.now()) * 30 + 30)
        ok = await client.post("/sign-in", data={"sign_in_name": "grace", "password": PASSWORD, "totp_code": later})
        assert ok.status_code == 303

        profile = await client.get("/profile")
        assert expert in profile.text
        token = csrf_of(profile.text)
        bad = await client.post(
            "/profile",
            data={
                "csrf_token": token,
                "skills": "NMR",
                "languages": "en",
                "timezone": "Mars/Olympus",
                "weekly_hours": "20",
            },
        )
        assert bad.status_code == 422 and 'id="timezone-error"' in bad.text and "Mars/Olympus" in bad.text
        saved = await client.post(
            "/profile",
            data={
                "csrf_token": token,
                "skills": "NMR, HPLC",
                "languages": "en, de",
                "timezone": "Europe/Berlin",
                "weekly_hours": "20",
            },
        )
        assert saved.status_code == 303
        shown = await client.get("/profile")
        assert 'value="NMR, HPLC"' in shown.text and 'value="Europe/Berlin"' in shown.text
