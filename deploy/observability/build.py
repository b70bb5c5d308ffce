"""Observability as code: the Grafana dashboards (grafana-foundation-sdk) and the Prometheus
alerting rules of every service, written to deploy/observability/ and into the Helm charts (with
the shared values schema of the service charts).

  python deploy/observability/build.py          # regenerate
  python deploy/observability/build.py --check  # fail if anything generated is stale (make lint)

Every series is selected by `cohort_service` (the ServiceMonitor sets it to the chart's name).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from grafana_foundation_sdk.builders.dashboard import Dashboard, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery as Prom
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "observability"
HELM = ROOT / "deploy" / "helm"
SERVICES = ("intake", "tasking", "qa", "payout", "workbench")
STREAMING = "WatchProgress|ExportItems"  # server streams: their duration is the stream's life
SERVER_ERRORS = "INTERNAL|UNKNOWN|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS"
AVAILABILITY_SLO = 0.999  # of RPCs answered without a server error
LATENCY_SLO = 0.99  # of unary RPCs answered within LATENCY_BOUND seconds
LATENCY_BOUND = "0.5"
# Multi-window, multi-burn-rate alerts (Google SRE workbook): (severity, long, short, burn rate).
BURN_WINDOWS = (("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6.0), ("ticket", "3d", "6h", 1.0))
RUNBOOK = "https://github.com/cohort-platform/cohort/blob/main/docs/runbooks.md"


# ---------------------------------------------------------------------------------------------
# Alerting rules
# ---------------------------------------------------------------------------------------------
def _sel(svc: str, extra: str = "") -> str:
    return "{" + f'cohort_service="{svc}"' + (f",{extra}" if extra else "") + "}"


def recording_rules(svc: str) -> list[dict]:
    rules = []
    windows = sorted({w for _, long, short, _ in BURN_WINDOWS for w in (long, short)}, key=_seconds)
    for w in windows:
        total = f"sum(rate(grpc_server_handled_total{_sel(svc)}[{w}]))"
        errors = (
            f"sum(rate(grpc_server_handled_total{_sel(svc, f'grpc_code=~{chr(34)}{SERVER_ERRORS}{chr(34)}')}[{w}]))"
        )
        rules.append({"record": f"cohort:grpc_error_ratio:rate{w}", "expr": f"({errors} or vector(0)) / {total}",
                      "labels": {"cohort_service": svc}})  # fmt: skip
        unary = f'grpc_method!~"{STREAMING}"'
        fast = f"sum(rate(grpc_server_handling_seconds_bucket{_sel(svc, f'{unary},le={chr(34)}{LATENCY_BOUND}{chr(34)}')}[{w}]))"
        count = f"sum(rate(grpc_server_handling_seconds_count{_sel(svc, unary)}[{w}]))"
        rules.append({"record": f"cohort:grpc_slow_ratio:rate{w}", "expr": f"1 - ({fast} / {count})",
                      "labels": {"cohort_service": svc}})  # fmt: skip
    return rules


def _seconds(window: str) -> int:
    return int(window[:-1]) * {"m": 60, "h": 3600, "d": 86400}[window[-1]]


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, svc: str, **labels: str) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "cohort_service": svc, **labels},
        "annotations": {
            "summary": summary,
            "runbook_url": f"{RUNBOOK}#{name.lower()}",
        },
    }


def alerting_rules(svc: str) -> list[dict]:
    sel = f'cohort_service="{svc}"'
    alerts = [
        _alert("CohortServiceDown", f'up{{{sel}}} == 0 or absent(up{{{sel}}})', "2m", "page",
               f"{svc}: no instance is being scraped successfully", svc),
    ]  # fmt: skip
    for slo_name, metric, slo in (
        ("Errors", "grpc_error_ratio", AVAILABILITY_SLO),
        ("Latency", "grpc_slow_ratio", LATENCY_SLO),
    ):
        for severity, long, short, burn in BURN_WINDOWS:
            threshold = round(burn * (1 - slo), 6)
            expr = f"cohort:{metric}:rate{long}{{{sel}}} > {threshold} and cohort:{metric}:rate{short}{{{sel}}} > {threshold}"
            alerts.append(
                _alert(f"Cohort{slo_name}BudgetBurn", expr, "2m" if severity == "page" else "15m", severity,
                       f"{svc}: {slo_name.lower()} SLO budget burning {burn}x over {long} (and {short})", svc,
                       window=long)
            )  # fmt: skip
    alerts += [
        _alert("CohortConsumerLagGrowing",
               f'sum by (cohort_service, topic) (cohort_kafka_consumer_lag{{{sel}}}) > 1000 '
               f'and sum by (cohort_service, topic) (deriv(cohort_kafka_consumer_lag{{{sel}}}[10m])) > 0',
               "10m", "ticket", f"{svc}: consumer lag above 1000 and growing", svc),
        _alert("CohortOutboxBacklogOld", f"max(cohort_outbox_oldest_age_seconds{{{sel}}}) > 60", "5m", "page",
               f"{svc}: events older than a minute are waiting in the outbox", svc),
        _alert("CohortDeadLetters", f"sum(increase(cohort_dlq_records_total{{{sel}}}[10m])) > 0", "0m", "ticket",
               f"{svc}: events were dead-lettered", svc),
        _alert("CohortOutboxParked", f"max(cohort_outbox_parked_rows{{{sel}}}) > 0", "0m", "page",
               f"{svc}: outbox events the broker refused for good are parked, with their key's later events",
               svc),
        _alert("CohortBackgroundLoopRestarting",
               f"sum by (cohort_service, task) (increase(cohort_background_restarts_total{{{sel}}}[15m])) > 3",
               "0m", "ticket", f"{svc}: a relay, consumer or sweeper keeps failing and restarting", svc),
    ]  # fmt: skip
    if svc == "workbench":
        web = f'cohort_workbench_request_seconds_count{{{sel},route!="/static"}}'
        alerts += [
            _alert("CohortWorkbenchSignInFailures",
                   f'sum(rate(cohort_workbench_sign_ins_total{{{sel},outcome=~"failed|throttled"}}[10m])) > 0.5',
                   "10m", "ticket", "workbench: more than one failed sign-in every 2 s for 10 minutes (password guessing?)",
                   svc),
            _alert("CohortWorkbenchServerErrors",
                   f'sum(rate(cohort_workbench_request_seconds_count{{{sel},code=~"5.."}}[10m])) / sum(rate({web}[10m])) > 0.01',
                   "10m", "page", "workbench: more than 1 % of page requests end in a 5xx", svc),
            _alert("CohortWorkbenchSlowPages",
                   f'histogram_quantile(0.99, sum by (le) (rate(cohort_workbench_request_seconds_bucket{{{sel},route!="/static"}}[10m]))) > 0.5',
                   "15m", "ticket", "workbench: page p99 above 0.5 s for 15 minutes", svc),
        ]  # fmt: skip
    if svc == "tasking":
        alerts += [
            _alert("CohortGoldPoolRunningDry",
                   f"min by (cohort_service, project_id) (cohort_tasking_gold_unseen_min{{{sel}}}) < 5 "
                   f"and min by (cohort_service, project_id) (cohort_tasking_gold_pool{{{sel}}}) > 0",
                   "30m", "ticket",
                   "tasking: an expert of an active project has fewer than 5 gold tasks left unseen (add gold)", svc),
        ]  # fmt: skip
    if svc == "payout":
        alerts += [
            _alert("CohortPayoutsFailed", f"delta(cohort_payout_payouts_by_state{{{sel},state=\"failed\"}}[1h]) > 0",
                   "0m", "ticket", "payout: the bank failed payouts in the last hour", svc),
            _alert("CohortProjectBudgetNearlySpent",
                   f"max by (cohort_service, project_id) (cohort_payout_project_budget_used_ratio{{{sel}}}) > 0.9",
                   "15m", "ticket", "payout: a project has used 90 % of its budget", svc),
        ]  # fmt: skip
    return alerts


def rules(svc: str) -> dict:
    return {
        "groups": [
            {"name": f"cohort-{svc}-slo-recording", "interval": "1m", "rules": recording_rules(svc)},
            {"name": f"cohort-{svc}-alerts", "rules": alerting_rules(svc)},
        ]
    }


# ---------------------------------------------------------------------------------------------
# Dashboards
# ---------------------------------------------------------------------------------------------
def _ts(title: str, unit: str, *queries: tuple[str, str]) -> Timeseries:
    panel = Timeseries().title(title).unit(unit).height(8).span(12)
    for expr, legend in queries:
        panel = panel.with_target(Prom().expr(expr).legend_format(legend))
    return panel


def _stat(title: str, unit: str, expr: str) -> Stat:
    return Stat().title(title).unit(unit).height(4).span(6).with_target(Prom().expr(expr))


def golden_signals(svc_filter: str, by: str) -> list[Timeseries]:
    sel = "{" + svc_filter + "}"
    err = "{" + svc_filter + f',grpc_code=~"{SERVER_ERRORS}"' + "}"
    unary = "{" + svc_filter + f',grpc_method!~"{STREAMING}"' + "}"
    return [
        _ts("Requests / s", "reqps", (f"sum by ({by}) (rate(grpc_server_handled_total{sel}[$__rate_interval]))", f"{{{{{by}}}}}")),
        _ts("Server error ratio", "percentunit",
            (f"sum by ({by}) (rate(grpc_server_handled_total{err}[$__rate_interval])) / "
             f"sum by ({by}) (rate(grpc_server_handled_total{sel}[$__rate_interval]))", f"{{{{{by}}}}}")),
        _ts("p99 latency (unary)", "s",
            (f"histogram_quantile(0.99, sum by ({by}, le) (rate(grpc_server_handling_seconds_bucket{unary}[$__rate_interval])))",
             f"{{{{{by}}}}}")),
        _ts("Client errors / s (by code)", "reqps",
            (f'sum by (grpc_code) (rate(grpc_server_handled_total{{{svc_filter},grpc_code!~"OK|{SERVER_ERRORS}"}}[$__rate_interval]))',
             "{{grpc_code}}")),
    ]  # fmt: skip


def pipeline(svc_filter: str) -> list[Timeseries]:
    sel = "{" + svc_filter + "}"
    return [
        _ts("Events processed / s", "ops", (f"sum by (cohort_service, topic) (rate(cohort_inbox_processed_total{sel}[$__rate_interval]))", "{{cohort_service}} {{topic}}")),
        _ts("Consumer lag", "short", (f"sum by (cohort_service, topic) (cohort_kafka_consumer_lag{sel})", "{{cohort_service}} {{topic}}")),
        _ts("Outbox backlog", "short", (f"sum by (cohort_service) (cohort_outbox_backlog{sel})", "{{cohort_service}}"),
            (f"max by (cohort_service) (cohort_outbox_oldest_age_seconds{sel})", "{{cohort_service}} oldest (s)")),
        _ts("Dead-lettered / s", "ops", (f"sum by (cohort_service, topic) (rate(cohort_dlq_records_total{sel}[$__rate_interval]))", "{{cohort_service}} {{topic}}")),
    ]  # fmt: skip


BUSINESS = {
    "intake": [
        _ts("Tasks added / s", "ops", ('sum(rate(cohort_intake_tasks_added_total{cohort_service="intake"}[$__rate_interval]))', "tasks")),
        _ts("Items delivered / s", "ops", ('sum(rate(cohort_intake_items_delivered_total{cohort_service="intake"}[$__rate_interval]))', "delivered"),
            ('sum(rate(cohort_intake_items_exported_total{cohort_service="intake"}[$__rate_interval]))', "exported")),
    ],
    "tasking": [
        _ts("Queued work and leases", "short", ('sum(cohort_tasking_open_slots{cohort_service="tasking"})', "open slots"),
            ('sum(cohort_tasking_active_assignments{cohort_service="tasking"})', "active leases")),
        _ts("Acquisitions / s", "reqps",
            ('sum(rate(grpc_server_handled_total{cohort_service="tasking",grpc_method="AcquireTask",grpc_code="OK"}[$__rate_interval]))', "acquired")),
    ],
    "qa": [
        _ts("Verdicts / s", "ops", ('sum by (verdict) (rate(qa_verdicts_total{cohort_service="qa"}[$__rate_interval]))', "{{verdict}}")),
        _ts("Acceptance rate and gold accuracy", "percentunit",
            ('sum(rate(qa_verdicts_total{cohort_service="qa",verdict="accepted"}[$__rate_interval])) / '
             'sum(rate(qa_verdicts_total{cohort_service="qa",verdict=~"accepted|rejected"}[$__rate_interval]))', "acceptance"),
            ('sum(rate(qa_gold_outcomes_total{cohort_service="qa",outcome="correct"}[$__rate_interval])) / '
             'sum(rate(qa_gold_outcomes_total{cohort_service="qa"}[$__rate_interval]))', "gold accuracy")),
        _ts("Check findings / s", "ops", ('sum by (reason) (rate(qa_check_findings_total{cohort_service="qa"}[$__rate_interval]))', "{{reason}}")),
        _ts("Review queue and items", "short", ('sum by (slot) (qa_review_queue{cohort_service="qa"})', "queue slot {{slot}}"),
            ('sum(rate(qa_items_finalized_total{cohort_service="qa"}[$__rate_interval]))', "items / s")),
    ],
    "workbench": [
        _ts("Pages / s by status", "reqps",
            ('sum by (code) (rate(cohort_workbench_request_seconds_count{cohort_service="workbench",route!="/static"}[$__rate_interval]))', "{{code}}")),
        _ts("Page latency p99 by route", "s",
            ('histogram_quantile(0.99, sum by (route, le) (rate(cohort_workbench_request_seconds_bucket{cohort_service="workbench",route!="/static"}[$__rate_interval])))', "{{route}}")),
        _ts("Sign-ins by outcome", "ops",
            ('sum by (outcome) (rate(cohort_workbench_sign_ins_total{cohort_service="workbench"}[$__rate_interval]))', "{{outcome}}")),
        _ts("Invitations", "ops",
            ('sum by (event) (rate(cohort_workbench_invitations_total{cohort_service="workbench"}[$__rate_interval]))', "{{event}}")),
        _ts("Backend errors", "ops",
            ('sum by (code) (rate(cohort_workbench_backend_errors_total{cohort_service="workbench"}[$__rate_interval]))', "{{code}}")),
    ],
    "payout": [
        _ts("Owed to experts", "short", ('sum by (currency) (cohort_payout_payable_minor{cohort_service="payout"})', "payable {{currency}}"),
            ('sum by (currency) (cohort_payout_in_transit_minor{cohort_service="payout"})', "in transit {{currency}}")),
        _ts("Payouts", "short", ('sum by (state) (cohort_payout_payouts_by_state{cohort_service="payout"})', "{{state}}")),
        _ts("Budget used (top projects)", "percentunit",
            ('topk(10, cohort_payout_project_budget_used_ratio{cohort_service="payout"})', "{{project_id}}")),
    ],
}  # fmt: skip


def service_dashboard(svc: str) -> Dashboard:
    f = f'cohort_service="{svc}"'
    d = (
        Dashboard(f"Cohort / {svc}")
        .uid(f"cohort-{svc}")
        .tags(["cohort", "generated"])
        .refresh("30s")
        .time("now-3h", "now")
    )
    d = d.with_row(Row("Golden signals (by method)"))
    for p in golden_signals(f, "grpc_method"):
        d = d.with_panel(p)
    d = d.with_row(Row("Events"))
    for p in pipeline(f):
        d = d.with_panel(p)
    d = d.with_row(Row("Business"))
    for p in BUSINESS[svc]:
        d = d.with_panel(p)
    return d


def platform_dashboard() -> Dashboard:
    f = 'cohort_service=~"intake|tasking|qa|payout|workbench"'
    d = (
        Dashboard("Cohort / platform")
        .uid("cohort-platform")
        .tags(["cohort", "generated"])
        .refresh("30s")
        .time("now-3h", "now")
    )
    d = d.with_row(Row("Golden signals (by service)"))
    for p in golden_signals(f, "cohort_service"):
        d = d.with_panel(p)
    d = d.with_row(Row("Pipeline"))
    for p in pipeline(f):
        d = d.with_panel(p)
    d = d.with_row(Row("Business KPIs"))
    kpis = [
        _stat("Tasks queued", "short", 'sum(cohort_tasking_open_slots{cohort_service="tasking"})'),
        _stat("Acquisitions / s", "reqps",
              'sum(rate(grpc_server_handled_total{cohort_service="tasking",grpc_method="AcquireTask",grpc_code="OK"}[5m]))'),
        _stat("Acceptance rate (1h)", "percentunit",
              'sum(increase(qa_verdicts_total{cohort_service="qa",verdict="accepted"}[1h])) / '
              'sum(increase(qa_verdicts_total{cohort_service="qa",verdict=~"accepted|rejected"}[1h]))'),
        _stat("Gold accuracy (1h)", "percentunit",
              'sum(increase(qa_gold_outcomes_total{cohort_service="qa",outcome="correct"}[1h])) / '
              'sum(increase(qa_gold_outcomes_total{cohort_service="qa"}[1h]))'),
        _stat("Payable (EUR minor)", "short", 'sum(cohort_payout_payable_minor{cohort_service="payout",currency="EUR"})'),
        _stat("Payouts settled", "short", 'sum(cohort_payout_payouts_by_state{cohort_service="payout",state="settled"})'),
        _stat("Payouts failed", "short", 'sum(cohort_payout_payouts_by_state{cohort_service="payout",state="failed"})'),
        _stat("Items finalized / s", "ops", 'sum(rate(qa_items_finalized_total{cohort_service="qa"}[5m]))'),
    ]  # fmt: skip
    for p in kpis:
        d = d.with_panel(p)
    return d


def _json(d: Dashboard) -> str:
    return JSONEncoder(sort_keys=True, indent=2).encode(d.build()) + "\n"


def outputs() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for svc in SERVICES:
        r = yaml.safe_dump(rules(svc), sort_keys=False, width=200)
        files[OUT / "rules" / f"{svc}.rules.yaml"] = r
        files[HELM / svc / "files" / "rules.yaml"] = r
        dj = _json(service_dashboard(svc))
        files[OUT / "dashboards" / f"{svc}.json"] = dj
        files[HELM / svc / "files" / "dashboard.json"] = dj
    # One values schema for every service chart, kept in one place.
    schema = (HELM / "service-values.schema.json").read_text()
    for svc in SERVICES:
        files[HELM / svc / "values.schema.json"] = schema
    pj = _json(platform_dashboard())
    files[OUT / "dashboards" / "platform.json"] = pj
    files[HELM / "cohort" / "files" / "platform-dashboard.json"] = pj
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for path, text in outputs().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale generated observability files (run `make observability`):", *stale, sep="\n  ")  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
