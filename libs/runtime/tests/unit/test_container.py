"""The image's entrypoint: container defaults that never override what the environment says."""

from __future__ import annotations

import pytest

from cohort_runtime.container import container_defaults


def test_a_container_listens_on_every_interface_and_finds_its_migrations() -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - what is being checked
    env: dict[str, str] = {"COHORT_QA_GRPC_HOST": "10.0.0.5"}
    container_defaults("qa", env)
    assert env == {
        "COHORT_QA_GRPC_HOST": "10.0.0.5",  # the chart's choice stays
        "COHORT_QA_METRICS_HOST": everywhere,
        "COHORT_QA_HTTP_HOST": everywhere,
        "COHORT_QA_MIGRATIONS_DIR": "/app/migrations",
    }


@pytest.mark.parametrize("service", ["", "QA", "qa;rm", "../qa"])
def test_an_image_built_without_a_service_name_says_so(service: str) -> None:
    with pytest.raises(ValueError, match="COHORT_SERVICE must name a service"):
        container_defaults(service, {})
