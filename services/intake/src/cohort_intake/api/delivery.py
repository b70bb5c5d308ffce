"""DeliveryService: a lab watches its project's progress and exports delivered items."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
from google.protobuf.timestamp_pb2 import Timestamp

from cohort.intake.v1 import delivery_pb2 as pb
from cohort.intake.v1 import delivery_pb2_grpc as pb_grpc
from cohort_intake.api.auth import require_lab
from cohort_intake.api.spec_mapping import STATES
from cohort_intake.app import delivery as app
from cohort_intake.app.progress_hub import ProgressHub
from cohort_intake.domain.progress import Counters
from cohort_intake.domain.projects import Project, ProjectState
from cohort_intake.metrics import IntakeMetrics
from cohort_runtime import FieldViolation, GrpcContext, InvalidArgument, paging
from cohort_runtime.fields import parse_uuid, timestamp

EXPORT_CHUNK = 500
MAX_EXPORT_IDS = 1000
# Re-read even without a notification, so a lost one only delays an update.
WATCH_REFRESH_SECONDS = 5.0
_FINAL = frozenset({ProjectState.COMPLETED, ProjectState.CANCELLED})


def progress_to_proto(project: Project, c: Counters) -> pb.ProjectProgress:
    return pb.ProjectProgress(
        project_id=str(project.project_id),
        state=STATES[project.state],
        pause_reason=project.pause_reason,
        tasks_total=c.tasks_total,
        tasks_queued=c.tasks_queued,
        submissions_received=c.submissions_received,
        submissions_pending=c.submissions_pending,
        submissions_accepted=c.submissions_accepted,
        submissions_rejected=c.submissions_rejected,
        items_delivered=c.items_delivered,
        target_accepted_items=project.spec.target_accepted_items,
        currency_code=project.spec.currency_code,
        committed_minor=c.committed_minor,
        spent_minor=c.spent_minor,
        budget_cap_minor=project.spec.budget_cap_minor,
        mean_agreement=c.mean_agreement,
        mean_confidence=c.mean_confidence,
        update_time=timestamp(max(c.update_time, project.update_time)),
    )


class DeliveryServicer(pb_grpc.DeliveryServiceServicer):
    def __init__(self, pool: asyncpg.Pool, hub: ProgressHub, metrics: IntakeMetrics) -> None:
        self._pool = pool
        self._hub = hub
        self._metrics = metrics

    async def WatchProgress(
        self, request: pb.WatchProgressRequest, context: GrpcContext
    ) -> AsyncIterator[pb.WatchProgressResponse]:
        lab_id = require_lab()
        project_id = parse_uuid(request.project_id, "project_id")
        last: pb.ProjectProgress | None = None
        with self._metrics.watchers.track_inprogress():
            while True:
                project, counters = await app.progress(self._pool, lab_id, project_id)
                snapshot = progress_to_proto(project, counters)
                if snapshot != last:
                    yield pb.WatchProgressResponse(progress=snapshot)
                    last = snapshot
                if project.state in _FINAL:
                    return
                await self._hub.wait(project_id, WATCH_REFRESH_SECONDS)

    async def ExportItems(
        self, request: pb.ExportItemsRequest, context: GrpcContext
    ) -> AsyncIterator[pb.ExportItemsResponse]:
        lab_id = require_lab()
        project_id = parse_uuid(request.project_id, "project_id")
        if len(request.item_ids) > MAX_EXPORT_IDS:
            raise InvalidArgument([FieldViolation("item_ids", f"at most {MAX_EXPORT_IDS} ids")])
        item_ids = [parse_uuid(v, f"item_ids[{i}]") for i, v in enumerate(request.item_ids)] or None
        after = _utc(request.delivered_after) if request.HasField("delivered_after") else None
        before = _utc(request.delivered_before) if request.HasField("delivered_before") else None
        query = {
            "lab": str(lab_id),
            "project": str(project_id),
            "after": str(after),
            "before": str(before),
            "ids": sorted(str(i) for i in item_ids or []),
        }
        position = paging.decode_keyset(request.cursor, query, int, field="cursor")
        seq = position[0] if position else None
        while True:
            rows = await app.export_page(self._pool, lab_id, project_id, seq, after, before, item_ids, EXPORT_CHUNK)
            if not rows:
                return
            seq = rows[-1]["seq"]
            self._metrics.items_exported.inc(len(rows))
            yield pb.ExportItemsResponse(
                items=[
                    pb.ExportedItem(
                        item_id=str(r["item_id"]),
                        task_id=r["task_id"],
                        record_json=r["record_json"],
                        deliver_time=timestamp(r["deliver_time"]),
                        revision=r["revision"],
                        supersedes_item_id=str(r["supersedes"]) if r["supersedes"] else "",
                    )
                    for r in rows
                ],
                cursor=paging.encode([seq], query),
            )
            if len(rows) < EXPORT_CHUNK:
                return


def _utc(ts: Timestamp) -> dt.datetime:
    return ts.ToDatetime(tzinfo=dt.UTC)
