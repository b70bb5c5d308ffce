# Cohort — the front door. Every target works on a fresh machine (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .local/tools/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
BUF := tools/node_modules/.bin/buf
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: help setup deps assets workbench-screenshots proto lint proto-check test client-matrix unit integration up down status demo demo-rubric demo-rte fuzz chaos observability helm-lint bench bench-workbench bench-intake bench-export bench-webhooks bench-tasking bench-history bench-history-scans bench-payout bench-verdicts bench-qa bench-grpc-floor clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .local/tools/uv
	.local/tools/uv/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/python: $(UV) uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

$(BUF): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(BIN)/python $(BUF) ## Python deps (.venv, from uv.lock) and buf (npm, pinned)

setup: deps ## everything: deps, Kafka jars (Maven), PostgreSQL and Chromium (apt, when missing), helm (Go proxy), promtool (Debian)
	bash deploy/local/kafka.sh install
	bash deploy/local/postgres.sh install
	bash deploy/local/browser.sh install
	bash deploy/tools.sh helm >/dev/null
	bash deploy/tools.sh promtool >/dev/null

proto: deps ## regenerate libs/proto from proto/
	$(BIN)/python scripts/gen_protos.py

proto-check: deps
	cd proto && ../$(BUF) lint
	$(BIN)/python scripts/gen_protos.py --check
	@# Against where this branch left main; on main itself (or a clone of it), against the commit
	@# before: comparing main with main would check nothing.
	@base="$$(git merge-base HEAD origin/main 2>/dev/null || git merge-base HEAD main 2>/dev/null || true)"; \
	if [[ -z "$$base" || "$$base" == "$$(git rev-parse HEAD)" ]]; then base="$$(git rev-parse -q --verify HEAD~1 || true)"; fi; \
	if [[ -n "$$base" ]] && git cat-file -e "$$base:proto/buf.yaml" 2>/dev/null; then \
	  echo "buf breaking against $$base"; \
	  $(BUF) breaking proto --against ".git#ref=$$base,subdir=proto"; \
	else echo "buf breaking: no earlier protos to compare with, skipped"; fi

lint: deps proto-check ## ruff, ruff format, mypy, layer contracts, buf lint + breaking, generated-code freshness
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy libs/runtime/src services/*/src clients/python/src scripts
	$(BIN)/lint-imports
	$(BIN)/python deploy/observability/build.py --check
	$(BIN)/python scripts/gen_limits_doc.py --check
	$(BIN)/python scripts/vendor_web_assets.py --check

assets: deps ## copy the workbench's web assets (htmx, KaTeX) from the npm packages pinned in tools/package.json
	$(BIN)/python scripts/vendor_web_assets.py

workbench-screenshots: setup ## regenerate docs/workbench/*.png by running the browser journey
	COHORT_WORKBENCH_SCREENSHOTS=$(CURDIR)/docs/workbench bash scripts/run_tests.sh tests/test_workbench_browser.py -k journey

test: setup lint ## the whole suite: lint, the client on Python 3.10-3.13, then unit and integration tests on a real Kafka + PostgreSQL
	bash scripts/client_matrix.sh
	bash scripts/run_tests.sh

client-matrix: deps ## the client wheel installed and tested on every supported Python found here (3.10-3.13)
	bash scripts/client_matrix.sh

fuzz: setup ## hostile input, long: ~1,400 generated requests per RPC (10k+ per service) against the four live services; figures appended to docs/RELIABILITY.md
	@COHORT_FUZZ_EXAMPLES=$${COHORT_FUZZ_EXAMPLES:-200} COHORT_FUZZ_RECORD=1 bash scripts/run_tests.sh -s tests/test_hostile_input.py

chaos: setup ## faults under load, long: 3 rounds of every fault kind at 60 cycles/s on a private two-replica stack; figures appended to docs/RELIABILITY.md
	@COHORT_CHAOS_ROUNDS=$${COHORT_CHAOS_ROUNDS:-3} COHORT_CHAOS_RATE=$${COHORT_CHAOS_RATE:-60} COHORT_CHAOS_RECORD=1 \
		$(BIN)/pytest -q -s tests/test_chaos.py

observability: deps ## regenerate the Grafana dashboards, alerting rules and the charts' values schemas
	$(BIN)/python deploy/observability/build.py

helm-lint: setup ## charts: helm lint --strict, every ci/ scenario rendered and validated offline, assertions; images; rule tests
	$(BIN)/pytest -q tests/deploy

unit: deps ## unit tests only (no servers)
	$(BIN)/pytest -q -m "not integration"

up: setup ## run Kafka, PostgreSQL, the four services and the workbench locally (state in .local/)
	bash deploy/local/stack.sh up

down: ## stop what `make up` started
	bash deploy/local/stack.sh down

status: ## what of the local stack is running
	@bash deploy/local/stack.sh status

demo: up ## the main job end to end: lab, project, simulated experts, QA, delivery, payouts, a report
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python scripts/demo.py 2> >(grep -v '^[IEW][0-9]\{4\} ' >&2)

demo-rubric: up ## the main job on rubric grading: three weighted criteria, per-criterion consensus and alpha
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python scripts/demo.py --kind rubric 2> >(grep -v '^[IEW][0-9]\{4\} ' >&2)

demo-rte: up ## the main job on a real crowd: 100 RTE items, each real worker replayed as an expert
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python scripts/demo.py --crowd rte 2> >(grep -v '^[IEW][0-9]\{4\} ' >&2)

bench-intake: up ## AddTasks ingestion rate against the local stack (prints tasks/s)
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/intake_ingest.py

bench-export: up ## ExportItems rate against the local stack (prints items/s)
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/intake_export.py

bench-tasking: up ## acquire+submit cycles/s and acquire latency against the local stack
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/tasking_acquire.py

bench-grpc-floor: setup ## CPU per unary gRPC call with no work behind it (bare and through the chassis): the floor under bench-tasking
	@$(BIN)/python bench/grpc_floor.py

bench-webhooks: setup ## webhook deliveries/s (20 endpoints, 20k queued) and lag p50/p99 at 200/s, against the local PostgreSQL
	@bash deploy/local/stack.sh infra-up && eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/webhooks.py $(BENCH_ARGS)

bench-history: setup ## a full cycle fresh vs after a year of history: empties the local stack (make clean), runs make bench, loads 1M finished cycles (bench/history.py), runs it again
	@$(MAKE) --no-print-directory clean
	@$(MAKE) --no-print-directory bench BENCH_ARGS="--seconds 120 $(BENCH_ARGS)"
	@bash deploy/local/stack.sh infra-up && eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/history.py $(HISTORY_ARGS)
	@$(MAKE) --no-print-directory bench BENCH_ARGS="--seconds 120 $(BENCH_ARGS)"

bench-history-scans: setup ## periodic queries against a long history: tasking's gold gauges (600k held tasks), QA's refit pass (1M judgments), on the local PostgreSQL
	@bash deploy/local/stack.sh infra-up && eval "$$(bash deploy/local/stack.sh env)" && \
		$(BIN)/python bench/tasking_gold_gauges.py && $(BIN)/python bench/qa_stale_projects.py

bench-payout: setup ## payout-run time for 100k experts against the local PostgreSQL
	@bash deploy/local/stack.sh infra-up && eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/payout_run.py

bench: setup ## the platform benchmark: full cycles through all four services for 5 minutes (QA pace check relaxed)
	@bash deploy/local/stack.sh services-down
	@COHORT_QA_MIN_SECONDS=0 COHORT_QA_MAX_TYPING_CHARS_PER_SECOND=1e9 COHORT_QA_MAX_READING_CHARS_PER_SECOND=1e9 \
		bash deploy/local/stack.sh up
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/platform_cycles.py $(BENCH_ARGS)
	@bash deploy/local/stack.sh services-down

bench-workbench: setup ## the web path: simulated experts over HTTP (forms, no JS), 60 s flat out then 60 s paced at 60 cycles/s
	@bash deploy/local/stack.sh services-down
	@COHORT_QA_MIN_SECONDS=0 COHORT_QA_MAX_TYPING_CHARS_PER_SECOND=1e9 COHORT_QA_MAX_READING_CHARS_PER_SECOND=1e9 \
		bash deploy/local/stack.sh up
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/workbench_cycles.py $(BENCH_ARGS) \
		&& $(BIN)/python bench/workbench_cycles.py --rate 60 --experts 300 $(BENCH_ARGS)
	@bash deploy/local/stack.sh services-down

bench-qa: setup ## QA submissions/s through its consumer (QA alone on the local stack) + 100k-judgment aggregation
	@bash deploy/local/stack.sh services-down && COHORT_SERVICES=qa bash deploy/local/stack.sh up
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/qa_verdicts.py --kind preference --submissions 40000 \
		&& $(BIN)/python bench/qa_verdicts.py --kind sft --overlap 1 --submissions 40000 --skip-aggregation
	@bash deploy/local/stack.sh services-down

bench-verdicts: setup ## verdict postings/s through payout's consumer (payout alone on the local stack)
	@bash deploy/local/stack.sh services-down && COHORT_SERVICES=payout bash deploy/local/stack.sh up
	@eval "$$(bash deploy/local/stack.sh env)" && $(BIN)/python bench/payout_verdicts.py
	@bash deploy/local/stack.sh services-down

clean: down ## stop everything and delete .local/ (Kafka data, the PostgreSQL cluster, logs, keys)
	rm -rf .local
