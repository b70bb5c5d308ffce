"""Generate the cohort-proto package from proto/ (messages, gRPC stubs and mypy stubs).

Run through `make proto`. With --check, generate into a scratch folder and fail when the committed
code differs, so CI catches a proto change whose generated code was not regenerated.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO / "proto"
OUT_ROOT = REPO / "libs" / "proto" / "src"
PACKAGE = "cohort"
BIN = Path(sys.executable).parent


def generate(out: Path) -> None:
    import grpc_tools  # the protoc bundled with grpcio-tools, and its well-known types

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE).rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={include}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    subprocess.run(cmd, check=True, cwd=PROTO_ROOT)  # noqa: S603 - fixed argv, no shell
    for folder in [out / PACKAGE, *(p for p in (out / PACKAGE).rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (out / PACKAGE / "py.typed").touch()


def tree_differs(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    diffs = [*cmp.left_only, *cmp.right_only, *cmp.diff_files]
    diffs = [str(Path(a) / d) for d in diffs if d != "__pycache__"]
    for sub in cmp.common_dirs:
        if sub != "__pycache__":
            diffs += tree_differs(a / sub, b / sub)
    return diffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            generate(Path(scratch))
            stale = tree_differs(OUT_ROOT / PACKAGE, Path(scratch) / PACKAGE)
        if stale:
            sys.stderr.write("generated proto code is stale; run `make proto`:\n  " + "\n  ".join(stale) + "\n")
            return 1
        return 0
    shutil.rmtree(OUT_ROOT / PACKAGE, ignore_errors=True)
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    generate(OUT_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
