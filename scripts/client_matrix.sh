#!/usr/bin/env bash
# The client package on every Python it supports (3.10–3.13): builds the cohort-proto and
# cohort-client wheels, installs them with their published dependencies into a fresh venv per
# interpreter, and runs the client's own tests (clients/python/tests, no server needed) plus an
# import of every public module and `cohort project init` for each data kind. The live CLI tests
# (tests/test_cli_live.py) run on the development interpreter against the local stack.
#
# Interpreters are looked up on PATH (python3.X) and in pyenv (~/.pyenv/versions/3.X.*); none is
# downloaded (UV_PYTHON_DOWNLOADS=never). A version missing from the machine is reported as
# skipped; COHORT_CLIENT_MATRIX_STRICT=1 makes that a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV=.local/tools/uv/bin/uv
VERSIONS=(${COHORT_CLIENT_PYTHONS:-3.10 3.11 3.12 3.13})
work="$(mktemp -d /tmp/cohort-client-matrix.XXXXXX)"
trap 'rm -rf "$work"' EXIT

find_python() {
  local v=$1 candidate
  # pyenv's own builds first: its shims on PATH answer only for the version selected globally.
  for candidate in $(ls -d "$HOME"/.pyenv/versions/"$v".*/bin/python 2>/dev/null | sort -rV) \
      "$(command -v "python$v" 2>/dev/null || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" -c "" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

"$UV" build -q --wheel --out-dir "$work/dist" libs/proto
"$UV" build -q --wheel --out-dir "$work/dist" clients/python
# The tests are copied out of the repository so that pytest sees neither the repository's
# conftest (which needs the server packages) nor the client's source tree: only the wheel.
cp -r clients/python/tests "$work/tests"

kinds="$(ls examples | grep -v '\.' || true)"
passed=() skipped=()
for v in "${VERSIONS[@]}"; do
  if ! py="$(find_python "$v")"; then
    echo "client matrix: Python $v not on this machine, skipped"
    skipped+=("$v")
    continue
  fi
  venv="$work/py$v"
  "$UV" venv -q --python "$py" "$venv"
  "$UV" pip install -q --python "$venv/bin/python" "$work"/dist/*.whl pytest
  "$venv/bin/python" - <<'PY'
import importlib, sys
for name in ("cohort_client", "cohort_client.lab", "cohort_client.lab_async", "cohort_client.operator",
             "cohort_client.webhooks", "cohort_client.cli", "cohort_client.examples"):
    importlib.import_module(name)
import importlib.resources as r
assert (r.files("cohort_client") / "py.typed").is_file(), "py.typed missing from the wheel"
PY
  for kind in $kinds; do
    "$venv/bin/cohort" project init --kind "$kind" >"$work/spec-$kind.yaml"
    grep -q "data_kind" "$work/spec-$kind.yaml"
  done
  (cd "$work" && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)
  echo "client matrix: Python $v ($("$venv/bin/python" -c 'import platform; print(platform.python_version())')) passed"
  passed+=("$v")
done

echo "client matrix: passed on ${passed[*]:-none}${skipped:+; skipped ${skipped[*]}}"
if (( ${#passed[@]} == 0 )); then echo "client matrix: no supported Python found" >&2; exit 1; fi
if [[ "${COHORT_CLIENT_MATRIX_STRICT:-0}" == 1 && ${#skipped[@]} -gt 0 ]]; then exit 1; fi
