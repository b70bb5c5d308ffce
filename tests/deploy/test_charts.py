"""The Helm charts, rendered offline for every ci/*-values.yaml scenario: `helm lint --strict`
passes, every manifest validates against the Kubernetes schemas (kubernetes-validate), the
Prometheus rules inside validate with promtool, and the rules that matter hold (non-root,
read-only root fs, no capabilities, grpc probes, migrations as a pre-upgrade hook, metrics only
from Prometheus, strict values)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM_DIR = ROOT / "deploy" / "helm"
SERVICES = ("intake", "tasking", "qa", "payout", "workbench")
K8S_VERSION = "1.33"
CRDS = {"ServiceMonitor", "PrometheusRule"}


def _tool(name: str) -> str:
    out = subprocess.run(["bash", str(ROOT / "deploy" / "tools.sh"), name], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def helm() -> str:
    binary = _tool("helm")
    for chart in (*SERVICES, "cohort"):  # services first: the umbrella packages them
        subprocess.run([binary, "dependency", "build", str(HELM_DIR / chart)], check=True, capture_output=True)
    return binary


def scenarios() -> list[tuple[str, Path]]:
    return [(chart, f) for chart in (*SERVICES, "cohort") for f in sorted((HELM_DIR / chart / "ci").glob("*.yaml"))]


def render(helm: str, chart: str, values: Path, *extra: str) -> list[dict]:
    out = subprocess.run(
        [helm, "template", "rel", str(HELM_DIR / chart), "-f", str(values), "--namespace", "cohort", *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.mark.parametrize(("chart", "values"), scenarios(), ids=lambda v: v if isinstance(v, str) else v.stem)
def test_scenario_lints_and_every_manifest_validates(helm: str, chart: str, values: Path, tmp_path: Path) -> None:
    lint = subprocess.run(
        [helm, "lint", "--strict", str(HELM_DIR / chart), "-f", str(values)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    docs = render(helm, chart, values)
    assert docs
    for doc in docs:
        if doc["kind"] in CRDS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["spec"]
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    for i, rule in enumerate(rules):
        path = tmp_path / f"rules{i}.yaml"
        path.write_text(yaml.safe_dump(rule["spec"]))
        check = subprocess.run([_tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("chart", SERVICES)
def test_workloads_are_locked_down_and_probed_over_grpc(helm: str, chart: str) -> None:
    docs = render(helm, chart, HELM_DIR / chart / "ci" / "full-values.yaml")
    kinds = {d["kind"]: d for d in docs}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"] and not sc["allowPrivilegeEscalation"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == container["ports"][0]["containerPort"]
    assert container["resources"]["requests"] and pod["topologySpreadConstraints"]
    env = {e["name"]: e for e in container["env"]}
    assert env["COHORT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == f"cohort-{chart}-db"
    job = kinds["Job"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    policy = kinds["NetworkPolicy"]["spec"]
    metrics_rule = next(r for r in policy["ingress"] if r["ports"][0]["port"] == "metrics")
    assert metrics_rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    dashboard = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard"))
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "HorizontalPodAutoscaler" in kinds and "replicas" not in kinds["Deployment"]["spec"]


def test_values_are_strict(helm: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((HELM_DIR / "qa" / "ci" / "minimal-values.yaml").read_text() + "replicas: 3\n")
    lint = subprocess.run(
        [helm, "lint", "--strict", str(HELM_DIR / "qa"), "-f", str(bad)], capture_output=True, text=True
    )
    assert lint.returncode != 0 and "replicas" in lint.stdout + lint.stderr
    missing = subprocess.run([helm, "template", "rel", str(HELM_DIR / "qa")], capture_output=True, text=True)
    assert missing.returncode != 0, "an install without Kafka, token key and database Secret is refused"


def test_the_umbrella_installs_what_is_enabled(helm: str) -> None:
    names = {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in render(
        helm, "cohort", HELM_DIR / "cohort" / "ci" / "qa-off-values.yaml"
    ) if "labels" in d["metadata"]}  # fmt: skip
    assert names == {"intake", "tasking", "payout", "workbench"}


def test_the_workbench_is_reached_through_a_tls_ingress_and_holds_the_signing_key(helm: str) -> None:
    docs = render(helm, "workbench", HELM_DIR / "workbench" / "ci" / "full-values.yaml")
    kinds = {d["kind"]: d for d in docs}
    ingress = kinds["Ingress"]["spec"]
    assert ingress["tls"] == [{"hosts": ["work.cohort.example"], "secretName": "cohort-workbench-tls"}]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["port"] == {"name": "http"}
    (container,) = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "http", "containerPort": 8088, "protocol": "TCP"} in container["ports"]
    env = {e["name"]: e for e in container["env"]}
    key = env["COHORT_WORKBENCH_TOKEN_PRIVATE_KEY"]["valueFrom"]["secretKeyRef"]
    assert key == {"name": "cohort-workbench-db", "key": "token-private-key"}
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "rel-workbench")["data"]
    assert "COHORT_KAFKA_BOOTSTRAP" not in config, "the workbench has no events"
    assert config["COHORT_WORKBENCH_HTTP_PORT"] == "8088"
    web_rule = next(r for r in kinds["NetworkPolicy"]["spec"]["ingress"] if r["ports"][0]["port"] == "http")
    assert web_rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    for other in ("intake", "tasking", "qa", "payout"):
        rendered = render(helm, other, HELM_DIR / other / "ci" / "full-values.yaml")
        assert "Ingress" not in {d["kind"] for d in rendered}, "only what is meant to be public is"
        platform_key = [d for d in rendered if "TOKEN_PRIVATE_KEY" in str(d).replace("LAB_TOKEN_PRIVATE_KEY", "")]
        assert not platform_key, "only the workbench holds the platform signing key"


def test_tls_mounts_the_certificate_and_probes_with_the_services_own_probe(helm: str) -> None:
    docs = render(helm, "tasking", HELM_DIR / "tasking" / "ci" / "tls-values.yaml")
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["COHORT_TLS_CERT_FILE"] == "/etc/cohort/tls/tls.crt"
    assert env["COHORT_TLS_CLIENT_CA_FILE"] == "/etc/cohort/tls/ca.crt", "mutual: callers must present a certificate"
    assert {"name": "tls", "mountPath": "/etc/cohort/tls", "readOnly": True} in container["volumeMounts"]
    assert {"name": "tls", "secret": {"secretName": "cohort-tasking-tls", "defaultMode": 0o440}} in pod["volumes"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"][:3] == ["python", "-m", "cohort_runtime.probe"], probe
    job = next(d for d in docs if d["kind"] == "Job")["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "cohort-tasking-tls", "defaultMode": 0o440}} in job["volumes"]


def test_the_lab_api_can_be_published_through_a_grpc_ingress(helm: str) -> None:
    docs = render(helm, "intake", HELM_DIR / "intake" / "ci" / "ingress-values.yaml")
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC"
    assert ingress["spec"]["tls"] == [{"hosts": ["api.cohort.example"], "secretName": "cohort-intake-tls"}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "rel-intake", "port": {"name": "grpc"}}
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    assert config["COHORT_TRUSTED_PROXIES"] == "10.0.0.0/8", "failed-auth throttling sees the lab, not the controller"


def test_kafka_is_reached_over_tls_with_sasl_by_default(helm: str, tmp_path: Path) -> None:
    docs = render(helm, "tasking", HELM_DIR / "tasking" / "ci" / "full-values.yaml")
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["COHORT_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["COHORT_KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
    assert env["COHORT_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "cohort-tasking-db",
        "key": "kafka-password",
    }, "the password comes from the Secret, never from values"
    assert env["COHORT_KAFKA_CA_FILE"]["value"] == "/etc/cohort/kafka-ca/ca.crt"
    assert {"name": "kafka-ca", "mountPath": "/etc/cohort/kafka-ca", "readOnly": True} in container["volumeMounts"]
    assert {"name": "kafka-ca", "secret": {"secretName": "cohort-cluster-ca-cert", "defaultMode": 0o440}} in pod[
        "volumes"
    ]
    # SASL without a user name cannot work: the render says so instead of a pod that cannot connect.
    values = yaml.safe_load((HELM_DIR / "tasking" / "ci" / "minimal-values.yaml").read_text())
    values["kafka"] = {"saslUsername": ""}
    unnamed = tmp_path / "unnamed.yaml"
    unnamed.write_text(yaml.safe_dump(values))
    refused = subprocess.run(
        [helm, "template", "rel", str(HELM_DIR / "tasking"), "-f", str(unnamed)], capture_output=True, text=True
    )
    assert refused.returncode != 0 and "kafka.saslUsername is required" in refused.stderr
    # The workbench has no events: no Kafka settings at all.
    workbench = render(helm, "workbench", HELM_DIR / "workbench" / "ci" / "minimal-values.yaml")
    assert "COHORT_KAFKA" not in str(next(d for d in workbench if d["kind"] == "Deployment"))


def test_only_intake_holds_the_lab_token_key_and_qa_and_payout_trust_its_public_half(helm: str, tmp_path: Path) -> None:
    intake = render(helm, "intake", HELM_DIR / "intake" / "ci" / "minimal-values.yaml")
    (container,) = next(d for d in intake if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["COHORT_LAB_TOKEN_PRIVATE_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "lab-token-private-key"
    for svc in ("tasking", "qa", "payout", "workbench"):
        rendered = render(helm, svc, HELM_DIR / svc / "ci" / "minimal-values.yaml")
        assert "LAB_TOKEN_PRIVATE_KEY" not in str(rendered), f"{svc} cannot mint lab tokens"
    values = yaml.safe_load((HELM_DIR / "qa" / "ci" / "minimal-values.yaml").read_text())
    values["config"]["labTokenPublicKey"] = "-----BEGIN PUBLIC KEY-----\nlab\n-----END PUBLIC KEY-----\n"
    trusting = tmp_path / "qa.yaml"
    trusting.write_text(yaml.safe_dump(values))
    config = next(d for d in render(helm, "qa", trusting) if d["kind"] == "ConfigMap")["data"]
    assert config["COHORT_LAB_TOKEN_PUBLIC_KEY"].startswith("-----BEGIN PUBLIC KEY-----")
