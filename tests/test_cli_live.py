"""The `cohort` CLI against a running intake: webhook endpoints for a lab, a pseudonym resolved by
an operator, and the exit-code contract on real refusals (not only offline error paths)."""

from __future__ import annotations

import asyncio
import json
import re

from cohort_client.cli import app
from typer.testing import CliRunner

runner = CliRunner()


async def cohort(*args: str) -> tuple[int, str]:
    # The CLI blocks on its calls; the services run on this test's event loop, so it runs aside.
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return result.exit_code, result.output


async def test_a_lab_manages_its_webhooks_and_an_operator_resolves_pseudonyms(
    services, onboard, token_keys, monkeypatch, tmp_path
):
    async with services("intake") as running:
        monkeypatch.setenv("COHORT_INTAKE_ADDR", f"127.0.0.1:{running['intake'].grpc_port}")
        import grpc

        async with grpc.aio.insecure_channel(f"127.0.0.1:{running['intake'].grpc_port}") as channel:
            lab_a, lab_b = await onboard.lab(channel, "A"), await onboard.lab(channel, "B")
        key_a = dict(lab_a)["authorization"].removeprefix("Bearer ")
        key_b = dict(lab_b)["authorization"].removeprefix("Bearer ")

        code, output = await cohort(
            "webhook", "create", "https://hooks.example.com/cohort", "--event", "items.delivered",
            "--event", "project.completed", "--api-key", key_a,
        )  # fmt: skip
        assert code == 0, output
        secret = re.search(r"secret: (whsec_\S+)", output)
        endpoint_id = re.search(r'"endpoint_id": "([0-9a-f-]+)"', output)
        assert secret and endpoint_id, output
        endpoint_id_text = endpoint_id.group(1)

        code, output = await cohort("webhook", "list", "--api-key", key_a)
        assert code == 0 and endpoint_id_text in output and "whsec_" not in output
        code, output = await cohort("--output", "table", "webhook", "list", "--api-key", key_a)
        assert code == 0 and "┃" in output and "whsec_" not in output, output  # one table, no secret
        assert (await cohort("--output", "yaml", "webhook", "list", "--api-key", key_a))[0] == 2
        code, output = await cohort("webhook", "disable", endpoint_id_text, "--api-key", key_a)
        assert code == 0 and json.loads(output)["state"] == "ENDPOINT_STATE_DISABLED"
        code, output = await cohort("webhook", "deliveries", endpoint_id_text, "--api-key", key_a)
        assert code == 0 and output.strip() == ""

        # Refusals keep the exit-code contract: 3 for what to fix, 4 for what is not yours.
        code, output = await cohort("webhook", "create", "ftp://x", "--event", "items.delivered", "--api-key", key_a)
        assert code == 3 and "endpoint.url" in output
        code, output = await cohort("webhook", "delete", endpoint_id_text, "--api-key", key_b)
        assert code == 4, output

        key_file = tmp_path / "operator.pem"
        key_file.write_text(token_keys[0])
        lab_id = onboard.lab_id_of(lab_a)
        code, output = await cohort("lab", "resolve-pseudonym", lab_id, "xp_nobody", "--token-key-file", str(key_file))
        assert code == 4 and "not found" in output
        code, output = await cohort("webhook", "delete", endpoint_id_text, "--api-key", key_a)
        assert code == 0, output


async def test_projects_keys_and_experts_from_the_command_line(services, onboard, token_keys, monkeypatch, tmp_path):
    async with services("intake", "tasking", "qa") as running:
        for name in ("intake", "tasking", "qa"):
            monkeypatch.setenv(f"COHORT_{name.upper()}_ADDR", f"127.0.0.1:{running[name].grpc_port}")
        import grpc

        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{running['intake'].grpc_port}") as intake,
            grpc.aio.insecure_channel(f"127.0.0.1:{running['tasking'].grpc_port}") as tasking,
        ):
            lab = await onboard.lab(intake)
            project_id = await onboard.project(intake, lab)
            expert_id, _creds = await onboard.expert(tasking)
        key = dict(lab)["authorization"].removeprefix("Bearer ")
        key_file = tmp_path / "operator.pem"
        key_file.write_text(token_keys[0])
        op = ("--token-key-file", str(key_file))

        code, output = await cohort("project", "list", "--state", "draft", "--api-key", key)
        assert code == 0 and project_id in output
        code, output = await cohort("project", "cancel", project_id, "--reason", "changed our mind", "--api-key", key)
        assert code == 0 and json.loads(output)["state"] == "PROJECT_STATE_CANCELLED"
        code, output = await cohort("project", "list", "--state", "draft", "--api-key", key)
        assert code == 0 and project_id not in output
        code, output = await cohort("project", "resume", project_id, "--api-key", key)
        assert code == 3, "a cancelled project cannot be resumed"

        code, output = await cohort("expert", "suspend", expert_id, "--reason", "spam", *op)
        assert code == 0 and json.loads(output)["status"] == "EXPERT_STATUS_SUSPENDED"
        code, output = await cohort("expert", "reinstate", expert_id, *op)
        assert code == 0 and json.loads(output)["status"] == "EXPERT_STATUS_ACTIVE"
        await running["qa"].pool.execute(
            """INSERT INTO reviewer_quality (reviewer_id, domain, successes, failures, pieces, mean, lower, upper)
               VALUES ($1, 'law', 6, 1, 7, 0.83, 0.62, 0.96)""",
            expert_id,
        )
        code, output = await cohort("expert", "quality", expert_id, *op)
        (as_reviewer,) = json.loads(output)["reviewer_estimates"]
        assert code == 0 and (as_reviewer["domain"], as_reviewer["mean"], as_reviewer["evidence"]) == ("law", 0.83, 7)

        lab_id = onboard.lab_id_of(lab)
        code, output = await cohort("lab", "keys", lab_id, *op)
        key_id = re.search(r'"key_id": "([0-9a-f-]+)"', output)
        assert code == 0 and key_id and "ck_" not in output.replace('"prefix": "ck_', "")
        code, output = await cohort("lab", "revoke", key_id.group(1), *op)
        assert code == 0 and "revoke_time" in output
        code, output = await cohort("project", "list", "--api-key", key)
        assert code == 4, "a revoked key is refused"


async def test_cohorts_and_payout_runs_from_the_command_line(services, onboard, token_keys, monkeypatch, tmp_path):
    async with services("tasking", "payout") as running:
        for name in ("tasking", "payout"):
            monkeypatch.setenv(f"COHORT_{name.upper()}_ADDR", f"127.0.0.1:{running[name].grpc_port}")
        import grpc

        async with grpc.aio.insecure_channel(f"127.0.0.1:{running['tasking'].grpc_port}") as tasking:
            experts = sorted([(await onboard.expert(tasking))[0] for _ in range(3)])
        key_file = tmp_path / "operator.pem"
        key_file.write_text(token_keys[0])
        op = ("--token-key-file", str(key_file))

        code, output = await cohort("cohorts", "add", "pilot", experts[0], *op)
        assert code == 4 and "cohort" in output, "no members for a cohort that was never created"
        code, output = await cohort("cohorts", "create", "pilot", "--name", "Pilot", "--description", "first 3", *op)
        assert code == 0 and json.loads(output)["display_name"] == "Pilot", output
        code, output = await cohort("cohorts", "create", "pilot", "--name", "Another", *op)
        assert code == 3 and "exists" in output, output
        code, output = await cohort("cohorts", "add", "pilot", *experts, *op)
        assert code == 0 and "3 added" in output, output
        code, output = await cohort("cohorts", "remove", "pilot", experts[0], *op)
        assert code == 0 and "1 removed" in output, output
        code, output = await cohort("cohorts", "show", "pilot", *op)
        shown = json.loads(output)
        assert code == 0 and shown["expert_ids"] == experts[1:] and shown["cohort"]["member_count"] == 2
        code, output = await cohort("--output", "table", "cohorts", "list", *op)
        assert code == 0 and "pilot" in output and "Pilot" in output and "┃" in output, output

        code, output = await cohort("payout", "runs", *op)
        assert code == 0 and output.strip() == "", "no runs yet: nothing printed"
        code, output = await cohort("payout", "runs", "--currency", "euro", *op)
        assert code == 3 and "currency_code" in output, output
        code, output = await cohort(
            "payout", "bonus", "2026-11", "--start", "2026-11-01", "--end", "2099-12-01",
            "--bonus-bps", "500", "--top-share", "0.1", *op,
        )  # fmt: skip
        assert code == 3 and "end_time" in output, "a period that has not ended cannot be closed"
        code, output = await cohort(
            "payout", "bonus", "2026-10", "--start", "2026-10-01", "--end", "2026-11-01",
            "--bonus-bps", "500", "--top-share", "0.1", *op,
        )  # fmt: skip
        assert code == 0 and json.loads(output) == {}, "closed, with no work in the period: no bonuses"

        # The same operator calls from asyncio code.
        from cohort_client import AsyncOperatorClient, CohortError, Endpoints

        from cohort_runtime.tokens import issue_token

        where = Endpoints(
            tasking=f"127.0.0.1:{running['tasking'].grpc_port}", payout=f"127.0.0.1:{running['payout'].grpc_port}"
        )
        async with AsyncOperatorClient(where, issue_token(token_keys[0], kind="operator", subject="op")) as aop:
            made = await aop.create_cohort("async-pilot", "Async pilot")
            assert made.cohort_id == "async-pilot"
            assert await aop.add_to_cohort("async-pilot", experts[:2]) == 2
            assert [c.cohort_id for c in await aop.cohorts()] == ["async-pilot", "pilot"]
            assert (await aop.cohort("async-pilot"))[1] == experts[:2]
            assert await aop.payout_runs() == []
            try:
                await aop.add_to_cohort("never-made", experts[:1])
            except CohortError as error:
                assert error.code == grpc.StatusCode.NOT_FOUND
            else:
                raise AssertionError("adding to a cohort that does not exist must fail")


async def test_a_lab_audits_delivered_items_from_the_command_line(
    services, onboard, events, token_keys, monkeypatch, tmp_path
):
    from cohort_runtime.testing import eventually

    async with services("intake", "qa") as running:
        for name in ("intake", "qa"):
            monkeypatch.setenv(f"COHORT_{name.upper()}_ADDR", f"127.0.0.1:{running[name].grpc_port}")
        import grpc

        async with grpc.aio.insecure_channel(f"127.0.0.1:{running['intake'].grpc_port}") as intake:
            lab = await onboard.lab(intake)
            pid = await onboard.delivered_project(intake, running["intake"].pool, lab, events, 12)
        key = dict(lab)["authorization"].removeprefix("Bearer ")

        code, output = await cohort("audit", "create", pid, "--aql", "4.0", "--api-key", key)
        audit = json.loads(output)
        # Lot 12 is letter B (3 items); at AQL 4.0 B holds Ac 0.
        assert code == 0 and audit["lot_size"] == 12 and audit["plan"]["sample_size"] == 3, output
        sampled = [i["item_id"] for i in audit["items"]]
        code, output = await cohort("audit", "accept", audit["audit_id"], *sampled[:2], "--api-key", key)
        assert code == 0 and json.loads(output)["decision"] == "AUDIT_DECISION_PENDING", output
        code, output = await cohort(
            "audit", "reject", audit["audit_id"], sampled[2], "--reason", "  ", "--api-key", key
        )
        assert code == 2, "a rejection needs a reason"
        code, output = await cohort(
            "audit", "reject", audit["audit_id"], sampled[2], "--reason", "wrong order", "--api-key", key
        )
        decided = json.loads(output)
        assert code == 0 and decided["decision"] == "AUDIT_DECISION_REJECTED" and decided["rejected_count"] == 1
        code, output = await cohort("audit", "accept", audit["audit_id"], sampled[2], "--api-key", key)
        assert code == 3 and "final" in output, "a finding cannot be changed"
        code, output = await cohort("audit", "create", pid, "--api-key", key)
        assert code == 3 and "since the project's last audit" in output
        code, output = await cohort("audit", "create", pid, "--aql", "3", "--api-key", key)
        assert code == 3 and "aql_percent" in output
        code, output = await cohort("audit", "list", pid, "--api-key", key)
        assert code == 0 and json.loads(output)["audit_id"] == audit["audit_id"] and "items" not in output
        code, output = await cohort("-o", "table", "audit", "list", pid, "--api-key", key)
        assert code == 0 and "┃" in output
        code, output = await cohort("project", "tasks", pid, "--api-key", key)
        assert code == 0 and output.count('"task_id"') == 12, output[-300:]
        # The asyncio client walks the same pages.
        from cohort_client import AsyncLabClient

        async with AsyncLabClient(f"127.0.0.1:{running['intake'].grpc_port}", key) as alab:
            assert [a.audit_id for a in await alab.audits.list(pid)] == [audit["audit_id"]]
            assert pid in [p.project_id async for p in alab.list_projects()]

        # QA staff decide the dispute; the lab reads the decision on its audit.
        key_file = tmp_path / "operator.pem"
        key_file.write_text(token_keys[0])
        op = ("--token-key-file", str(key_file))

        async def at_qa():
            code, output = await cohort("dispute", "list", "--project", pid, *op)
            return output if code == 0 and sampled[2] in output else None

        listed = json.loads(await eventually(at_qa, 30, "the dispute at QA"))
        assert listed["lab_reason"] == "wrong order" and listed["state"] == "DISPUTE_STATE_OPEN"
        code, output = await cohort("dispute", "uphold", sampled[2], "--comments", "", *op)
        assert code == 2, "a decision needs comments"
        code, output = await cohort("dispute", "uphold", sampled[2], "--comments", "agreed: b first", *op)
        assert code == 0 and json.loads(output)["state"] == "DISPUTE_STATE_UPHELD", output
        code, output = await cohort("dispute", "dismiss", sampled[2], "--comments", "changed my mind", *op)
        assert code == 3 and "final" in output

        async def answered():
            _code, output = await cohort("audit", "show", audit["audit_id"], "--api-key", key)
            item = next(i for i in json.loads(output)["items"] if i["item_id"] == sampled[2])
            return item if item.get("dispute") == "ITEM_DISPUTE_STATE_UPHELD" else None

        item = await eventually(answered, 30, "QA's decision on the lab's audit")
        assert item["qa_comments"] == "agreed: b first"
