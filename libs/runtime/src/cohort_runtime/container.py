"""`python -m cohort_runtime.container`: the entrypoint of every service image (one Dockerfile,
deploy/docker/Dockerfile, built with `--build-arg SERVICE=<svc>`).

It runs `python -m cohort_<COHORT_SERVICE>` with the arguments it was given (`migrate` for the
Helm migration hook), after filling in what only a container needs and the settings cannot know:
listen on every interface rather than loopback, and find the SQL migrations where the image put
them. Anything already set in the environment (the chart's ConfigMap) wins.
"""

from __future__ import annotations

import os
import re
import runpy
import sys
from collections.abc import MutableMapping

SERVICE = re.compile(r"^[a-z]{2,20}$")


def container_defaults(service: str, env: MutableMapping[str, str]) -> None:
    """Set the container's defaults for `service` in `env`, keeping what is there."""
    if not SERVICE.match(service):
        raise ValueError(f"COHORT_SERVICE must name a service (intake, tasking, ...), not {service!r}")
    prefix = f"COHORT_{service.upper()}_"
    for name, value in (
        ("GRPC_HOST", "0.0.0.0"),  # noqa: S104 - a container's port is reached through its pod's address
        ("METRICS_HOST", "0.0.0.0"),  # noqa: S104
        ("HTTP_HOST", "0.0.0.0"),  # noqa: S104 - read only by services with pages (the workbench)
        ("MIGRATIONS_DIR", "/app/migrations"),
    ):
        env.setdefault(prefix + name, value)


def main() -> None:
    service = os.environ.get("COHORT_SERVICE", "")
    try:
        container_defaults(service, os.environ)
    except ValueError as exc:
        sys.exit(str(exc))
    runpy.run_module(f"cohort_{service}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
