"""Copy the workbench's third-party web assets from the npm packages pinned in tools/package.json.

The workbench serves htmx and KaTeX from its own origin (no third-party origins under its CSP), so
the files live in the repository beside its own static files and a clone runs without npm. Run
`make assets` after changing a version in tools/package.json; `--check` (part of `make lint`)
fails when the committed copies differ from the pinned packages.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "tools" / "node_modules"
VENDOR = REPO / "services" / "workbench" / "src" / "cohort_workbench" / "web" / "static" / "vendor"

# (package, file inside the package, name under vendor/)
FILES = [
    ("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    ("katex", "dist/katex.min.js", "katex/katex.min.js"),
    ("katex", "dist/katex.min.css", "katex/katex.min.css"),
]
# Browsers that run the workbench all read woff2, the first format KaTeX's stylesheet offers.
FONT_GLOB = ("katex", "dist/fonts", "*.woff2", "katex/fonts")


def wanted() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for package, source, target in FILES:
        out[target] = (NODE_MODULES / package / source).read_bytes()
    package, folder, pattern, target_dir = FONT_GLOB
    for font in sorted((NODE_MODULES / package / folder).glob(pattern)):
        out[f"{target_dir}/{font.name}"] = font.read_bytes()
    versions = {
        p: json.loads((NODE_MODULES / p / "package.json").read_text())["version"] for p in sorted({f[0] for f in FILES})
    }
    out["VERSIONS.json"] = (json.dumps(versions, indent=2) + "\n").encode()
    return out


def present() -> dict[str, bytes]:
    if not VENDOR.exists():
        return {}
    return {str(p.relative_to(VENDOR)): p.read_bytes() for p in VENDOR.rglob("*") if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the committed copies are stale")
    args = parser.parse_args()
    files = wanted()
    if args.check:
        if present() != files:
            sys.stderr.write("workbench vendor assets differ from tools/package.json: run `make assets`\n")
            return 1
        return 0
    for stale in set(present()) - set(files):
        (VENDOR / stale).unlink()
    for name, data in files.items():
        path = VENDOR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
