"""What a lab exports parses in the formats training stacks ingest, checked end to end over the
four running services: SFT and trajectory records against the OpenAI chat-message schema (the
`openai` package's own types, extra keys refused), preference records in TRL's preference shape.
And nothing in a record names an expert beyond their pseudonymous id."""

from __future__ import annotations

import json

import grpc
from openai.types.chat import ChatCompletionMessageParam
from pydantic import ConfigDict, TypeAdapter

from cohort.intake.v1 import delivery_pb2, delivery_pb2_grpc, projects_pb2_grpc, tasks_pb2_grpc
from cohort.intake.v1 import projects_pb2 as ppb
from cohort.intake.v1 import tasks_pb2 as tpb
from cohort.tasking.v1 import work_pb2, work_pb2_grpc
from cohort.types.v1 import projects_pb2 as types
from cohort.types.v1 import submissions_pb2 as sub
from cohort.types.v1 import tasks_pb2 as ttypes

OPENAI_MESSAGES = TypeAdapter(list[ChatCompletionMessageParam], config=ConfigDict(extra="forbid"))

WORK = {
    types.DATA_KIND_SFT_DEMONSTRATION: (
        ttypes.TaskInput(prompt="Why does SN2 invert the configuration?"),
        sub.SubmissionPayload(sft=sub.SftSubmission(response="The nucleophile attacks from the back side.")),
    ),
    types.DATA_KIND_TRAJECTORY: (
        ttypes.TaskInput(prompt="What is the boiling point of ethanol?"),
        sub.SubmissionPayload(
            trajectory=sub.TrajectorySubmission(
                steps=[
                    sub.TrajectoryStep(kind="thought", content="Look it up."),
                    sub.TrajectoryStep(kind="action", tool_name="search", tool_arguments_json='{"q": "ethanol bp"}'),
                    sub.TrajectoryStep(kind="observation", content="78.37 C at 1 atm"),
                ],
                final_answer="78.4 C at sea level.",
            )
        ),
    ),
    types.DATA_KIND_PREFERENCE: (
        ttypes.TaskInput(
            prompt="Which explanation is right?",
            candidates=[
                ttypes.Candidate(candidate_id="a", content="Back-side attack inverts it."),
                ttypes.Candidate(candidate_id="b", content="Front-side attack keeps it."),
            ],
        ),
        sub.SubmissionPayload(preference=sub.PreferenceSubmission(ranking=["a", "b"])),
    ),
}


async def test_exports_parse_as_openai_chat_and_trl_preference_records(services, eventually, fast_experts, onboard):
    async with services("intake", "tasking", "qa", "payout", qa=fast_experts) as running:
        intake, tasking = running["intake"], running["tasking"]
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{intake.grpc_port}") as ic,
            grpc.aio.insecure_channel(f"127.0.0.1:{tasking.grpc_port}") as tc,
        ):
            lab_md = await onboard.lab(ic)
            expert_id, expert = await onboard.expert(tc)
            projects = projects_pb2_grpc.ProjectServiceStub(ic)
            kinds = {}
            for kind, (task_input, _payload) in WORK.items():
                pid = await onboard.project(ic, lab_md, title=f"formats {kind}", data_kind=kind)
                await tasks_pb2_grpc.TaskServiceStub(ic).AddTasks(
                    tpb.AddTasksRequest(project_id=pid, tasks=[tpb.NewTask(task_id="t1", input=task_input)]),
                    metadata=lab_md,
                )
                await projects.ActivateProject(ppb.ActivateProjectRequest(project_id=pid), metadata=lab_md)
                kinds[pid] = kind

            work = work_pb2_grpc.WorkServiceStub(tc)

            async def leased():
                reply = await work.AcquireTask(work_pb2.AcquireTaskRequest(), metadata=expert)
                return reply.assignment if reply.HasField("assignment") else None

            for _ in kinds:
                a = await eventually(leased)
                payload = WORK[kinds[a.project_id]][1]
                await work.SubmitTask(
                    work_pb2.SubmitTaskRequest(assignment_id=a.assignment_id, payload=payload), metadata=expert
                )

            delivery = delivery_pb2_grpc.DeliveryServiceStub(ic)

            async def exported(pid: str) -> list[dict]:
                records = []
                async for chunk in delivery.ExportItems(
                    delivery_pb2.ExportItemsRequest(project_id=pid), metadata=lab_md
                ):
                    records += [json.loads(line) for item in chunk.items for line in item.record_json.splitlines()]
                return records

            for pid, kind in kinds.items():
                (record,) = await eventually(lambda pid=pid: exported(pid))
                meta = record.pop("metadata")
                assert meta["expert_ids"] == onboard.lab_sees(lab_md, expert_id), "experts appear by pseudonym only"
                if kind == types.DATA_KIND_PREFERENCE:
                    assert record == {
                        "prompt": "Which explanation is right?",
                        "chosen": "Back-side attack inverts it.",
                        "rejected": "Front-side attack keeps it.",
                    }, "TRL's preference shape: prompt, chosen, rejected"
                    continue
                messages = record.pop("messages")
                OPENAI_MESSAGES.validate_python(messages)  # raises on any deviation from the schema
                assert record == {}, f"nothing beside messages and metadata: {record}"
                assert messages[0] == {"role": "user", "content": WORK[kind][0].prompt}
                if kind == types.DATA_KIND_TRAJECTORY:
                    call = messages[1]
                    assert call["role"] == "assistant" and call["tool_calls"][0]["function"]["name"] == "search"
                    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {"q": "ethanol bp"}
                    assert messages[2] == {
                        "role": "tool",
                        "tool_call_id": call["tool_calls"][0]["id"],
                        "content": "78.37 C at 1 atm",
                    }
                    assert messages[-1] == {"role": "assistant", "content": "78.4 C at sea level."}
                else:
                    assert messages[-1] == {
                        "role": "assistant",
                        "content": "The nucleophile attacks from the back side.",
                    }
