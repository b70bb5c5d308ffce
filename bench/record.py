"""How a benchmark records its figures: the commit measured, and the JSON appended to
docs/BENCHMARKS.md under the make target that ran it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def commit_id() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - the developer's git
        capture_output=True, text=True, cwd=ROOT, check=False,
    ).stdout.strip()  # fmt: skip


def publish(target: str, summary: dict[str, Any]) -> None:
    """Print the summary and append it to docs/BENCHMARKS.md."""
    print(json.dumps(summary, indent=2))
    with (ROOT / "docs" / "BENCHMARKS.md").open("a") as f:
        f.write(f"\n<!-- make {target} -->\n`{json.dumps(summary)}`\n")
