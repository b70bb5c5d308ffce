"""One Dockerfile builds every service's image and passes hadolint; the alerting rules pass their
promtool unit tests; the generated dashboards, rules and chart schemas are fresh."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "tasking", "qa", "payout", "workbench")
DOCKER = ROOT / "deploy" / "docker"


def test_one_dockerfile_builds_every_service_and_is_lint_clean() -> None:
    """The build arguments documented for each image are the ports the service listens on by
    default, and the one Dockerfile passes hadolint."""
    import importlib

    documented = {
        m["svc"]: (int(m["grpc"]), int(m["metrics"]))
        for m in re.finditer(
            r"SERVICE=(?P<svc>[a-z]+) --build-arg GRPC_PORT=(?P<grpc>\d+) --build-arg METRICS_PORT=(?P<metrics>\d+)",
            (DOCKER / "README.md").read_text(),
        )
    }
    for svc in SERVICES:
        config = importlib.import_module(f"cohort_{svc}.config")
        settings = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings")
        fields = settings.model_fields
        assert documented[svc] == (fields["grpc_port"].default, fields["metrics_port"].default), svc
        assert (ROOT / "services" / svc / "migrations").is_dir(), "the image copies the service's migrations"
    assert not list((ROOT / "services").glob("*/Dockerfile")), "one Dockerfile, not one per service"
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), str(DOCKER / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerting_rules_pass_their_unit_tests() -> None:
    promtool = (
        subprocess.run(
            ["bash", str(ROOT / "deploy" / "tools.sh"), "promtool"], check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    rules = sorted((ROOT / "deploy" / "observability" / "rules").glob("*.yaml"))
    check = subprocess.run([promtool, "check", "rules", *map(str, rules)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = sorted((ROOT / "deploy" / "observability" / "tests").glob("*.test.yaml"))
    assert tests
    result = subprocess.run([promtool, "test", "rules", *map(str, tests)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_observability_files_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "observability" / "build.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
