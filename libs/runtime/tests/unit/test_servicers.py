"""A service's registered names come from the generated code's own descriptors."""

from __future__ import annotations

import pytest
from grpc_health.v1 import health_pb2_grpc

from cohort.qa.v1 import reviews_pb2_grpc
from cohort.tasking.v1 import experts_pb2_grpc
from cohort_runtime.servicers import service_name


def test_the_full_name_is_read_from_the_descriptor():
    assert service_name(reviews_pb2_grpc.add_ReviewServiceServicer_to_server) == "cohort.qa.v1.ReviewService"
    # Two services of one file.
    assert service_name(experts_pb2_grpc.add_ProfileServiceServicer_to_server) == "cohort.tasking.v1.ProfileService"
    assert service_name(health_pb2_grpc.add_HealthServicer_to_server) == "grpc.health.v1.Health"


def test_anything_else_is_refused():
    with pytest.raises(ValueError, match="not a generated"):
        service_name(print)  # type: ignore[arg-type]
