"""The expert workbench over plain HTTP (no browser) in front of the real services: invitations,
sessions, CSRF, throttling, scoping of assignments and drafts, field errors from tasking, and the
operator RPC's answers to bad input."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlparse

import grpc
import httpx
import pytest

from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.tasking.v1 import experts_pb2, experts_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort.workbench.v1 import accounts_pb2, accounts_pb2_grpc

from .conftest import csrf_of, open_project

PASSWORD = "quiet-harbour-lantern-47"


async def _invite(admin, onboard, expert_id: str) -> str:
    reply = await admin.InviteExpert(accounts_pb2.InviteExpertRequest(expert_id=expert_id), metadata=onboard.operator)
    return urlparse(reply.invitation_url).path


async def _join(client: httpx.AsyncClient, link: str, name: str) -> None:
    assert (await client.get(link)).status_code == 200
    joined = await client.post(link, data={"sign_in_name": name, "password": PASSWORD, "password_again": PASSWORD})
    assert joined.status_code == 303, joined.text


async def test_accounts_sessions_and_the_work_loop_over_http(workbench_stack, onboard):
    async with workbench_stack() as stack:
        ic, tc = stack.intake, stack.tasking
        admin = accounts_pb2_grpc.AccountAdminServiceStub(stack.admin)
        lab = await onboard.lab(ic)
        pid = await open_project(
            ic,
            onboard,
            lab,
            [tpb.NewTask(task_id=f"t{i}", input=ttypes.TaskInput(prompt=f"Explain $E=mc^2$ ({i})")) for i in range(3)],
            data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
            overlap=1,
            target_accepted_items=3,
        )
        ann, _ = await onboard.expert(tc)
        bob, _ = await onboard.expert(tc)

        # The operator RPC: operators only, registered experts only, clear errors otherwise.
        for request, metadata, code in [
            (accounts_pb2.InviteExpertRequest(expert_id=ann), onboard.token("expert", ann), "PERMISSION_DENIED"),
            (accounts_pb2.InviteExpertRequest(expert_id="nobody"), onboard.operator, "INVALID_ARGUMENT"),
            (accounts_pb2.InviteExpertRequest(expert_id="exp_unknown000"), onboard.operator, "NOT_FOUND"),
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await admin.InviteExpert(request, metadata=metadata)
            assert refused.value.code().name == code

        base = stack.base_url
        async with httpx.AsyncClient(base_url=base) as a, httpx.AsyncClient(base_url=base) as b:
            assert (await a.get("/")).headers["location"].startswith("/sign-in")
            link = await _invite(admin, onboard, ann)
            weak = await a.post(
                link, data={"sign_in_name": "ann", "password": "password123", "password_again": "password123"}
            )
            assert weak.status_code == 422 and 'id="password-error"' in weak.text and "common" in weak.text
            joined = await a.post(link, data={"sign_in_name": "ann", "password": PASSWORD, "password_again": PASSWORD})
            assert joined.status_code == 303
            cookie = joined.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=lax" in cookie
            assert (await b.get(link)).status_code == 404, "a used link is spent"
            await _join(b, await _invite(admin, onboard, bob), "bob")

            for _ in range(300):  # tasking hears of the project's activation over Kafka
                home = await a.get("/")
                if "Demonstration" in home.text:
                    break
                await asyncio.sleep(0.1)
            assert home.status_code == 200 and "Demonstration" in home.text and "1.00 EUR" in home.text
            csp = home.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
            assert home.headers["cache-control"] == "no-store"

            # Every state-changing request needs the session's CSRF token.
            assert (await a.post("/work/start", data={})).status_code == 403
            for _ in range(300):  # tasking hears of the activation over Kafka
                started = await a.post("/work/start", data={"csrf_token": csrf_of(home.text), "project_id": pid})
                assert started.status_code == 303
                if started.headers["location"].startswith("/work/"):
                    break
                await asyncio.sleep(0.1)
            work_path = started.headers["location"]
            assert work_path.startswith("/work/")
            page = await a.get(work_path)
            assert page.status_code == 200 and 'class="math inline"' in page.text
            token = csrf_of(page.text)
            saved = await a.post(f"{work_path}/draft", data={"csrf_token": token, "reasoning": "half a thought"})
            assert saved.status_code == 200 and "Draft saved" in saved.text

            # Bob cannot see, save into, submit or release Ann's assignment: it reads as missing.
            bob_token = csrf_of((await b.get("/")).text)
            assert (await b.get(work_path)).status_code == 404
            for action in ("draft", "submit", "release", "heartbeat"):
                assert (await b.post(f"{work_path}/{action}", data={"csrf_token": bob_token})).status_code == 404

            # Tasking refuses an empty response: the error sits by the field, the reasoning stays.
            refused = await a.post(
                f"{work_path}/submit", data={"csrf_token": token, "response": " ", "reasoning": "half a thought"}
            )
            assert refused.status_code == 422
            assert 'id="response-error"' in refused.text and "half a thought" in refused.text
            assert "Traceback" not in refused.text
            reloaded = await a.get(work_path)
            assert "half a thought" in reloaded.text, "the draft survives a reload"

            done = await a.post(
                f"{work_path}/submit",
                data={"csrf_token": token, "response": "Mass and energy are equivalent.", "then": "next"},
            )
            assert done.status_code == 303 and done.headers["location"].startswith("/work/")
            assert done.headers["location"] != work_path, "submit-and-next leased the next task"
            assert (await a.get(work_path)).status_code == 404, "a handed-in lease is gone"

            # An offboarded expert can neither sign in nor be invited again.
            await experts_pb2_grpc.ExpertAdminServiceStub(tc).SetExpertStatus(
                experts_pb2.SetExpertStatusRequest(expert_id=bob, status=experts_pb2.EXPERT_STATUS_OFFBOARDED),
                metadata=onboard.operator,
            )
            b.cookies.clear()
            closed = await b.post("/sign-in", data={"sign_in_name": "bob", "password": PASSWORD})
            assert closed.status_code == 403 and "closed" in closed.text
            with pytest.raises(grpc.aio.AioRpcError) as refused_invite:
                await _invite(admin, onboard, bob)
            assert refused_invite.value.code() == grpc.StatusCode.FAILED_PRECONDITION

            # Sign-out ends the session server-side: the old cookie opens nothing.
            old = a.cookies.get("cohort_session")
            await a.post("/sign-out", data={"csrf_token": token})
            stale = httpx.AsyncClient(base_url=base, cookies={"cohort_session": old})
            async with stale:
                assert (await stale.get("/")).status_code == 303


async def test_sign_in_is_throttled_per_account(workbench_stack, onboard):
    async with workbench_stack(sign_in_account_limit=3) as stack:
        expert, _ = await onboard.expert(stack.tasking)
        admin = accounts_pb2_grpc.AccountAdminServiceStub(stack.admin)
        base = stack.base_url
        async with httpx.AsyncClient(base_url=base) as client:
            await _join(client, await _invite(admin, onboard, expert), "carol")
            client.cookies.clear()
            for _ in range(3):
                wrong = await client.post(
                    "/sign-in", data={"sign_in_name": "carol", "password": "nope" + uuid.uuid4().hex}
                )
                assert wrong.status_code == 401 and "do not match" in wrong.text
            locked = await client.post("/sign-in", data={"sign_in_name": "carol", "password": PASSWORD})
            assert locked.status_code == 429 and "Try again in" in locked.text, "locked even with the right password"
            unknown = await client.post("/sign-in", data={"sign_in_name": "nobody", "password": PASSWORD})
            assert unknown.status_code == 401, "other accounts are not locked"
        ended = await admin.SignOutEverywhere(
            accounts_pb2.SignOutEverywhereRequest(expert_id=expert), metadata=onboard.operator
        )
        assert ended.sessions_ended == 1, "the session made on joining"
