"""Wires qa: settings, servicers, consumers, background jobs, and the chassis runtime."""

from __future__ import annotations

import grpc

from cohort.qa.v1 import disputes_pb2_grpc, quality_pb2_grpc, reviews_pb2_grpc, verdicts_pb2_grpc
from cohort_qa.api.disputes import DisputeServicer
from cohort_qa.api.quality import QualityServicer
from cohort_qa.api.reviews import ReviewServicer
from cohort_qa.api.verdicts import ExpertVerdictServicer
from cohort_qa.app.models import refit_forever
from cohort_qa.config import QASettings
from cohort_qa.consumers.handlers import subscriptions
from cohort_qa.events.topics import PUBLISHED
from cohort_qa.metrics import QaMetrics
from cohort_runtime import Resources, ServiceDefinition, serve
from cohort_runtime.pseudonyms import LabView
from cohort_runtime.servicers import register
from cohort_runtime.tokens import token_authenticator


def definition(settings: QASettings) -> ServiceDefinition:
    metrics: dict[int, QaMetrics] = {}
    limits = settings.check_limits()

    def metrics_for(resources: Resources) -> QaMetrics:
        # One set per registry: servicers, consumers and jobs are built from the same resources.
        key = id(resources.registry)
        if key not in metrics:
            metrics[key] = QaMetrics(resources.registry)
        return metrics[key]

    def add_servicers(server: grpc.aio.Server, resources: Resources) -> list[str]:
        m = metrics_for(resources)
        return register(
            server,
            (reviews_pb2_grpc.add_ReviewServiceServicer_to_server, ReviewServicer(resources.pool, m)),
            (
                quality_pb2_grpc.add_QualityServiceServicer_to_server,
                QualityServicer(resources.pool, m, LabView(settings.pseudonym_key_bytes())),
            ),
            (verdicts_pb2_grpc.add_ExpertVerdictServiceServicer_to_server, ExpertVerdictServicer(resources.pool)),
            (disputes_pb2_grpc.add_DisputeServiceServicer_to_server, DisputeServicer(resources.pool)),
        )

    return ServiceDefinition(
        settings=settings,
        add_servicers=add_servicers,
        authenticator=lambda _r: token_authenticator(
            settings.token_public_key_pem(), settings.lab_token_public_key_pem()
        ),
        publishes=PUBLISHED,
        subscriptions=lambda r: subscriptions(metrics_for(r), limits),
        background=lambda r: [lambda: refit_forever(r.pool, metrics_for(r), settings.refit_seconds)],
    )


async def main(settings: QASettings | None = None) -> None:
    settings = settings or QASettings()  # type: ignore[call-arg]
    await serve(definition(settings))
