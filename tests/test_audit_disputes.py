"""A lab's audit across intake and QA: the lab rejects a sampled item, QA staff decide the dispute,
and the lab reads the decision on its audit — over real gRPC, Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import grpc

from cohort.intake.v1 import audits_pb2, audits_pb2_grpc, webhooks_pb2, webhooks_pb2_grpc
from cohort.qa.v1 import disputes_pb2, disputes_pb2_grpc
from cohort_runtime.testing import eventually


async def test_a_rejected_item_is_decided_by_qa_and_the_lab_reads_the_decision(services, onboard, events):
    async with services("intake", "qa") as running:
        intake_address = f"127.0.0.1:{running['intake'].grpc_port}"
        qa_address = f"127.0.0.1:{running['qa'].grpc_port}"
        async with grpc.aio.insecure_channel(intake_address) as intake, grpc.aio.insecure_channel(qa_address) as qa:
            lab = await onboard.lab(intake)
            pid = await onboard.delivered_project(intake, running["intake"].pool, lab, events, 8)
            endpoint = await webhooks_pb2_grpc.WebhookServiceStub(intake).CreateEndpoint(
                webhooks_pb2.CreateEndpointRequest(
                    endpoint=webhooks_pb2.Endpoint(
                        url="https://lab.example/hooks", event_types=["audit.dispute_decided"]
                    )
                ),
                metadata=lab,
            )
            audits = audits_pb2_grpc.AuditServiceStub(intake)
            audit = (
                await audits.CreateAudit(
                    audits_pb2.CreateAuditRequest(request_id=str(uuid.uuid4()), project_id=pid, aql_percent=10.0),
                    metadata=lab,
                )
            ).audit
            upheld_item, dismissed_item = audit.items[0].item_id, audit.items[1].item_id
            await audits.RecordFindings(
                audits_pb2.RecordFindingsRequest(
                    audit_id=audit.audit_id,
                    findings=[
                        audits_pb2.ItemFinding(item_id=upheld_item, finding=audits_pb2.FINDING_REJECTED, reason="b"),
                        audits_pb2.ItemFinding(item_id=dismissed_item, finding=audits_pb2.FINDING_REJECTED, reason="x"),
                    ],
                ),
                metadata=lab,
            )

            disputes = disputes_pb2_grpc.DisputeServiceStub(qa)

            async def at_qa():
                listed = await disputes.ListDisputes(
                    disputes_pb2.ListDisputesRequest(project_id=pid), metadata=onboard.operator
                )
                return listed.disputes if len(listed.disputes) == 2 else None

            arrived = await eventually(at_qa, 30, "both disputes at QA")
            assert {d.item_id for d in arrived} == {upheld_item, dismissed_item}
            assert {d.audit_id for d in arrived} == {audit.audit_id}
            for item_id, uphold, why in ((upheld_item, True, "agreed"), (dismissed_item, False, "the item is right")):
                await disputes.DecideDispute(
                    disputes_pb2.DecideDisputeRequest(item_id=item_id, uphold=uphold, comments=why),
                    metadata=onboard.operator,
                )

            async def answered():
                shown = (await audits.GetAudit(audits_pb2.GetAuditRequest(audit_id=audit.audit_id), metadata=lab)).audit
                states = {i.item_id: (i.dispute, i.qa_comments) for i in shown.items}
                pending = audits_pb2.ITEM_DISPUTE_STATE_PENDING
                return states if all(states[i][0] != pending for i in (upheld_item, dismissed_item)) else None

            states = await eventually(answered, 30, "QA's decisions on the lab's audit")
            assert states[upheld_item] == (audits_pb2.ITEM_DISPUTE_STATE_UPHELD, "agreed")
            assert states[dismissed_item] == (audits_pb2.ITEM_DISPUTE_STATE_DISMISSED, "the item is right")
            others = [v for k, v in states.items() if k not in (upheld_item, dismissed_item)]
            unspecified = audits_pb2.ITEM_DISPUTE_STATE_UNSPECIFIED
            assert others and all(d == unspecified for d, _ in others), "only rejections are disputed"

            # The lab's webhook endpoint is told of each decision, in the transaction that records it.
            queued = await running["intake"].pool.fetch(
                "SELECT payload FROM webhook_deliveries WHERE endpoint_id = $1::text::uuid AND event_type = $2",
                endpoint.endpoint.endpoint_id,
                "audit.dispute_decided",
            )
            told = {m["data"]["item_id"]: m["data"] for m in (json.loads(r["payload"]) for r in queued)}
            assert told[upheld_item]["dispute"] == "upheld" and told[upheld_item]["qa_comments"] == "agreed"
            assert told[dismissed_item]["dispute"] == "dismissed" and len(told) == 2
            assert told[upheld_item]["audit_id"] == audit.audit_id and told[upheld_item]["project_id"] == pid
