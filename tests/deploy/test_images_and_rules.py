"""The service images share one pattern and pass hadolint; the alerting rules pass their promtool
unit tests; the generated dashboards, rules and chart schemas are fresh."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "tasking", "qa", "payout", "workbench")
# What only the workbench's image has: its web port.
_WEB_ONLY = ("# The pages", "HTTP_HOST", "EXPOSE 8088")


def test_dockerfiles_are_one_pattern_and_lint_clean() -> None:
    def normalised(svc: str) -> str:
        text = (ROOT / "services" / svc / "Dockerfile").read_text()
        text = "".join(line for line in text.splitlines(keepends=True) if not any(w in line for w in _WEB_ONLY))
        text = re.sub(r"1505[0-9]", "GRPC", re.sub(r"910[0-9]", "METRICS", text))
        return text.replace(svc.upper(), "SVC").replace(svc, "svc")

    patterns = {svc: normalised(svc) for svc in SERVICES}
    assert len(set(patterns.values())) == 1, "the Dockerfiles drifted apart"
    hadolint = Path(sys.executable).parent / "hadolint"
    for svc in SERVICES:
        result = subprocess.run(
            [str(hadolint), str(ROOT / "services" / svc / "Dockerfile")], capture_output=True, text=True
        )
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
