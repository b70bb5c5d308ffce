"""The example project specs (the repository's examples/ folder, shipped in the wheel)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def example_spec(kind: str) -> str:
    """examples/<kind>/spec.yaml: from the installed package, or beside the source in a checkout."""
    packaged = resources.files("cohort_client") / "examples" / kind / "spec.yaml"
    if packaged.is_file():
        return packaged.read_text()
    return (Path(__file__).resolve().parents[4] / "examples" / kind / "spec.yaml").read_text()
