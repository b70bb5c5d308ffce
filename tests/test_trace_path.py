"""One submission's trace, as an OpenTelemetry collector receives it: the services run as their own
processes exporting spans over OTLP to a receiver this test serves, and the spans they export link
tasking's SubmitTask through Kafka to QA's handler, and QA's verdict through Kafka to payout's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes
from cohort_runtime.testing import eventually
from tests.conftest import open_project

SERVICES = ("intake", "tasking", "qa", "payout")


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    links: tuple[str, ...] = ()
    """The span ids this span links to (records of a fetch settled together beside the first)."""


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """The receiving end of OTLP/gRPC, keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ExportedSpan] = []

    async def Export(self, request, context):
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                self.spans.extend(
                    ExportedSpan(
                        attributes.get("service.name", "?"),
                        s.trace_id.hex(),
                        s.span_id.hex(),
                        s.parent_span_id.hex(),
                        s.name,
                        tuple(link.span_id.hex() for link in s.links),
                    )
                    for s in scope.spans
                )
        return trace_service_pb2.ExportTraceServiceResponse()


@contextlib.asynccontextmanager
async def collector() -> AsyncIterator[tuple[Collector, int]]:
    server = grpc.aio.server()
    receiver = Collector()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield receiver, port
    finally:
        await server.stop(grace=None)


async def _start(service: str, env: dict[str, str]) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"cohort_{service}", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    seen = []
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), timeout=90)
        assert raw, f"{service} exited before serving: {seen[-5:]}"
        seen.append(raw.decode(errors="replace"))
        if raw.startswith(b"{"):
            found = re.search(r"serving gRPC on 127\.0\.0\.1:(\d+)", json.loads(raw)["message"])
            if found:
                break
    # Keep reading its log so a full pipe never blocks it; warnings are kept for a failure's message.
    asyncio.get_running_loop().create_task(_drain(service, proc))
    return proc, int(found.group(1))


WARNINGS: list[str] = []


async def _drain(service: str, proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    while raw := await proc.stdout.readline():
        if b'"WARNING"' in raw or b'"ERROR"' in raw or not raw.startswith(b"{"):
            WARNINGS.append(f"{service}: {raw.decode(errors='replace').strip()[:300]}")


@contextlib.asynccontextmanager
async def processes(otlp_port: int, public_key: str, unique) -> AsyncIterator[dict[str, int]]:
    """The four services as processes on a topic prefix, schemas and groups of their own."""
    prefix = unique("trace").replace("_", "-")
    base = {
        **os.environ,
        "COHORT_TOPIC_PREFIX": prefix,
        "COHORT_TOKEN_PUBLIC_KEY": public_key,
        "COHORT_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
        "COHORT_TRACE_SAMPLE_RATIO": "1.0",
        # The test's expert answers at machine speed: QA's speed checks would reject it.
        "COHORT_QA_MIN_SECONDS": "0",
        "COHORT_QA_MAX_TYPING_CHARS_PER_SECOND": "1e9",
        "COHORT_QA_MAX_READING_CHARS_PER_SECOND": "1e9",
    }
    procs: list[asyncio.subprocess.Process] = []
    ports: dict[str, int] = {}
    try:
        for service in SERVICES:
            upper = service.upper()
            env = {
                **base,
                f"COHORT_{upper}_DB_SCHEMA": unique(service),
                f"COHORT_{upper}_GRPC_PORT": "0",
                f"COHORT_{upper}_METRICS_PORT": "0",
                f"COHORT_{upper}_KAFKA_GROUP_PREFIX": f"{prefix}-{service}",
            }
            proc, ports[service] = await _start(service, env)
            procs.append(proc)
        yield ports
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_a_submission_is_one_trace_from_tasking_through_qa_to_payout(token_keys, onboard, unique):
    async with collector() as (received, otlp_port), processes(otlp_port, token_keys[1], unique) as ports:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{ports['intake']}") as ic,
            grpc.aio.insecure_channel(f"127.0.0.1:{ports['tasking']}") as tc,
        ):
            lab = await onboard.lab(ic)
            from cohort.intake.v1 import tasks_pb2 as tpb

            await open_project(
                ic,
                onboard,
                lab,
                [tpb.NewTask(task_id="q1", input=ttypes.TaskInput(prompt="Why does SN2 invert configuration?"))],
                data_kind=types.DATA_KIND_SFT_DEMONSTRATION,
                review_sample_rate=0.0,
            )
            _expert_id, expert = await onboard.expert(tc)
            work = work_pb2_grpc.WorkServiceStub(tc)

            async def leased():
                reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=expert)
                return reply.assignment if reply.HasField("assignment") else None

            try:
                assignment = await eventually(leased, 60, "the project's task offered to the expert")
            except AssertionError:
                raise AssertionError("\n".join(WARNINGS[-20:])) from None

            async def qa_caught_up() -> bool:
                # A fetch's receive span names every topic it brought (its process span the first).
                fetched = " ".join(s.name for s in received.spans if s.service == "qa" and s.name.endswith(" receive"))
                return all(t in fetched for t in ("intake.projects.v1", "intake.tasks.v1", "tasking.experts.v1"))

            # A record that a fetch brings beside others continues the first one's trace and only
            # links to its own; the full suite's load once brought the submission to QA together
            # with the expert's profile, and the trace broke there. With QA idle, it comes alone.
            await eventually(qa_caught_up, 60, "QA handling the project, its task and the expert first")
            await work.SubmitTask(
                work_pb2.SubmitTaskRequest(
                    assignment_id=assignment.assignment_id,
                    payload=sub.SubmissionPayload(
                        sft=sub.SftSubmission(response="Backside attack through a trigonal bipyramidal state.")
                    ),
                ),
                metadata=expert,
            )

        def chain() -> list[ExportedSpan] | None:
            """tasking's SubmitTask down to payout handling QA's verdict, root first. Payout
            handles the verdict in a span whose parent is QA's send, or, when the fetch brought it
            together with other records, in the fetch's span that links to that send."""
            by_id = {s.span_id: s for s in received.spans}
            for send in received.spans:
                if send.service != "qa" or not send.name.endswith("qa.verdicts.v1 send"):
                    continue
                path = [send]
                while path[-1].parent_id in by_id:
                    path.append(by_id[path[-1].parent_id])
                if not (path[-1].service == "tasking" and path[-1].name.endswith("/SubmitTask")):
                    continue
                handled = [
                    s for s in received.spans
                    if s.service == "payout" and s.name.endswith(" process")
                    and (s.parent_id == send.span_id or send.span_id in s.links)
                ]  # fmt: skip
                if handled:
                    return [*path[::-1], handled[0]]
            return None

        async def linked():
            return chain()

        try:
            path = await eventually(linked, 90, "payout's handling of the verdict traced back to SubmitTask")
        except AssertionError:
            shown = [f"{s.service}: {s.name}" for s in received.spans if not s.name.isupper() and " " in s.name]
            raise AssertionError("no such trace among:\n" + "\n".join(shown[-40:])) from None
    *upstream, handled = path
    hops = [(s.service, s.name.split("cohort.", 1)[-1]) for s in upstream if s.name.endswith((" send", " process"))]
    assert len({s.trace_id for s in upstream}) == 1
    # tasking publishes the submission, QA handles it and publishes its verdict, payout handles that.
    assert hops == [
        ("tasking", "tasking.submissions.v1 send"),
        ("qa", "tasking.submissions.v1 process"),
        ("qa", "qa.verdicts.v1 send"),
    ], hops
    assert handled.service == "payout"
    if handled.parent_id == upstream[-1].span_id:  # the verdict alone, or first in its fetch
        assert handled.trace_id == upstream[0].trace_id and handled.name.endswith("qa.verdicts.v1 process")
