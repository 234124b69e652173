#!/usr/bin/env python3
"""Consistency checks between the deployment assets and the code, run by
scripts/validate-deploy.sh after the rendered manifests exist.

    check_deploy.py ROOT RENDERED_DIR

Checks:
- every environment variable that docker-compose.yml or a rendered overlay sets on a Bourse
  container is one that container's command reads (from the clap `env = "..."` attributes in
  crates/, followed through `#[command(flatten)]`; cross-checked against `--help` when
  BOURSE_BIN names a built binary);
- every metric that an alert, a recording rule, a dashboard or a Prometheus adapter rule
  queries is exported by the code today (or is a recording rule, or comes from Prometheus or
  kube-state-metrics), and every HPA custom metric is one the adapter serves;
- the dashboards are JSON with unique panel ids and known data sources;
- the compose stack is wired: depends_on targets exist, Bourse services have healthchecks and
  limits, the gateway's pools and Prometheus' targets are services of the file;
- every Kubernetes workload has probes, requests and limits, and a locked-down security
  context; every pool has an HPA, a PDB, a VPA (updateMode Off) and a headless Service;
  nothing carries a secret value; VPAs match the vendored VPA schema.
Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import promql_parser
import yaml

PROBLEMS: list[str] = []


def problem(message: str) -> None:
    PROBLEMS.append(message)


# --- what the code accepts and exports -------------------------------------------------------

STRUCT_RE = re.compile(r"pub struct (\w+)\s*\{(.*?)\n\}", re.S)
ENV_RE = re.compile(r'env\s*=\s*"([A-Z0-9_]+)"')
FLATTEN_RE = re.compile(r"#\[command\(flatten\)\]\s*(?:pub\s+)?\w+\s*:\s*(?:\w+::)*(\w+)")
# The pool options declared with `tier_pools!` (crates/runtime/src/upstream.rs): the struct's
# name, then its two (env, default, help) triples.
TIER_POOLS_RE = re.compile(r"tier_pools!\(\s*(?:///[^\n]*\n\s*)*(\w+),(.*?)\n\);", re.S)
QUOTED_ENV_RE = re.compile(r'"(BOURSE_[A-Z0-9_]+)"')


def clap_structs(root: Path) -> dict[str, tuple[set[str], list[str]]]:
    """Struct name -> (env vars it declares, structs it flattens)."""
    structs: dict[str, tuple[set[str], list[str]]] = {}
    for path in sorted(root.glob("crates/*/src/**/*.rs")):
        text = path.read_text()
        for name, body in STRUCT_RE.findall(text):
            envs = set(ENV_RE.findall(body))
            flattened = FLATTEN_RE.findall(body)
            if envs or flattened:
                structs[name] = (envs, flattened)
        for name, body in TIER_POOLS_RE.findall(text):
            structs[name] = (set(QUOTED_ENV_RE.findall(body)), [])
    return structs


def env_of(structs: dict[str, tuple[set[str], list[str]]], name: str) -> set[str]:
    envs, flattened = structs.get(name, (set(), []))
    out = set(envs)
    for inner in flattened:
        out |= env_of(structs, inner)
    return out


# The options struct of each command (crates/bourse/src/cli.rs).
COMMAND_OPTIONS = {
    ("serve", "market-data"): "ServiceOpts",
    ("serve", "portfolio"): "PortfolioOpts",
    ("serve", "risk"): "RiskOpts",
    ("serve", "sentiment"): "SentimentOpts",
    ("serve", "gateway"): "GatewayOpts",
    ("migrate",): "StoreOpts",
}


def accepted_env(root: Path) -> dict[tuple[str, ...], set[str]]:
    structs = clap_structs(root)
    accepted = {}
    for command, options in COMMAND_OPTIONS.items():
        envs = env_of(structs, options)
        if not envs:
            problem(f"code: found no environment variables for `bourse {' '.join(command)}` "
                    f"(struct {options} in crates/bourse/src/cli.rs)")
        accepted[command] = envs
    binary = os.environ.get("BOURSE_BIN")
    if binary:
        for command, envs in accepted.items():
            out = subprocess.run([binary, *command, "--help"], capture_output=True, text=True,
                                 check=True).stdout
            from_help = set(re.findall(r"\[env: ([A-Z0-9_]+)=", out))
            if from_help != envs:
                problem(f"code: `bourse {' '.join(command)} --help` lists {sorted(from_help)}, "
                        f"the sources {sorted(envs)}")
    return accepted


CONST_RE = re.compile(r'(?:pub(?:\(crate\))?\s+)?const\s+(\w+)\s*:\s*&str\s*=\s*"(bourse_\w+)"')
MACRO_RE = re.compile(r'\b(counter|gauge|histogram)!\(\s*("?)(\w+)"?')


def exported_metrics(root: Path) -> set[str]:
    """Series names the code exports: counters and gauges as named, histograms as
    name_bucket, name_sum and name_count (the Prometheus exporter's histogram form)."""
    consts_by_file = {}
    all_consts: dict[str, set[str]] = {}
    files = sorted(root.glob("crates/*/src/**/*.rs"))
    for path in files:
        consts = dict(CONST_RE.findall(path.read_text()))
        consts_by_file[path] = consts
        for ident, value in consts.items():
            all_consts.setdefault(ident, set()).add(value)
    names = set()
    for path in files:
        for kind, quoted, token in MACRO_RE.findall(path.read_text()):
            if quoted:
                values = {token}
            elif token in consts_by_file[path]:
                values = {consts_by_file[path][token]}
            else:
                values = all_consts.get(token, set())
            for value in values:
                if kind == "histogram":
                    names |= {f"{value}_bucket", f"{value}_sum", f"{value}_count"}
                else:
                    names.add(value)
    if not names:
        problem("code: found no exported metrics in crates/*/src")
    return names


# Series that other exporters provide.
EXTERNAL_METRICS = {
    "up",  # Prometheus, per scrape target
    "kube_pod_container_status_restarts_total",  # kube-state-metrics
}


def metrics_in(expr: str, where: str) -> set[str]:
    # Grafana's variables, replaced by values of the same type so the expression parses.
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    expr = re.sub(r"\$\{?(\w+)\}?", r"\1", expr)
    expr = expr.replace("<<.Series>>", "series_placeholder").replace("<<.LabelMatchers>>", "")
    expr = expr.replace("<<.GroupBy>>", "pod")
    try:
        ast = promql_parser.parse(expr)
    except Exception as error:  # noqa: BLE001 - the parser raises a bare ValueError subclass
        problem(f"{where}: does not parse as PromQL: {error}")
        return set()
    found: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name
            if not name:
                for matcher in node.matchers.matchers:
                    if matcher.name == "__name__":
                        name = matcher.value
            if name and name != "series_placeholder":
                found.add(name)
        return True

    promql_parser.walk(ast, visit)
    return found


def check_metric_names(names: set[str], known: set[str], where: str) -> None:
    for name in sorted(names - known):
        problem(f"{where}: queries {name}, which nothing exports "
                "(not in crates/*/src, the recording rules, or the external allowlist)")


# --- observability assets -------------------------------------------------------------------

def check_rules(root: Path, exported: set[str]) -> set[str]:
    rules_dir = root / "deploy/prometheus/rules"
    recorded = set()
    rule_files = sorted(rules_dir.glob("*.yml"))
    if not rule_files:
        problem("deploy/prometheus/rules: no rule files")
    docs = {path: yaml.safe_load(path.read_text()) for path in rule_files}
    for doc in docs.values():
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "record" in rule:
                    recorded.add(rule["record"])
    known = exported | recorded | EXTERNAL_METRICS
    for path, doc in docs.items():
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                name = rule.get("record") or rule.get("alert")
                where = f"{path.relative_to(root)}: {name}"
                check_metric_names(metrics_in(rule["expr"], where), known, where)
    return recorded


def panels_of(dashboard: dict):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def check_dashboards(root: Path, known: set[str]) -> None:
    provisioning = yaml.safe_load(
        (root / "deploy/grafana/provisioning/datasources/datasources.yml").read_text())
    uids = {ds["uid"] for ds in provisioning["datasources"]}
    dashboards = sorted((root / "deploy/grafana/dashboards").glob("*.json"))
    if not dashboards:
        problem("deploy/grafana/dashboards: no dashboards")
    seen_uids = set()
    for path in dashboards:
        rel = path.relative_to(root)
        try:
            dashboard = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            problem(f"{rel}: not JSON: {error}")
            continue
        if dashboard.get("uid") in seen_uids:
            problem(f"{rel}: dashboard uid {dashboard.get('uid')} used twice")
        seen_uids.add(dashboard.get("uid"))
        ids = [panel.get("id") for panel in panels_of(dashboard)]
        if len(ids) != len(set(ids)):
            problem(f"{rel}: panel ids are not unique")
        queries = 0
        for panel in panels_of(dashboard):
            for target in panel.get("targets", []):
                ds = target.get("datasource") or panel.get("datasource") or {}
                if ds.get("uid") not in uids:
                    problem(f"{rel}: panel {panel.get('title')!r} uses data source "
                            f"{ds.get('uid')!r}, not provisioned")
                expr = target.get("expr")
                if expr:
                    queries += 1
                    where = f"{rel}: panel {panel.get('title')!r}"
                    check_metric_names(metrics_in(expr, where), known, where)
        if queries == 0:
            problem(f"{rel}: no queries")


def check_adapter(root: Path, exported: set[str]) -> set[str]:
    """Checks the Prometheus adapter's rules; returns the custom metric names it serves."""
    path = root / "k8s/monitoring/prometheus-adapter-values.yaml"
    values = yaml.safe_load(path.read_text())
    served = set()
    for rule in values["rules"]["custom"]:
        where = f"{path.relative_to(root)}: {rule['seriesQuery']}"
        series = metrics_in(rule["seriesQuery"], where)
        check_metric_names(series, exported, where)
        metrics_in(rule["metricsQuery"], where)
        pattern = re.compile(rule["name"]["matches"])
        for name in series:
            match = pattern.match(name)
            if not match:
                problem(f"{where}: name.matches does not match {name}")
                continue
            served.add(match.expand(rule["name"]["as"].replace("${", "\\g<").replace("}", ">")))
    return served


# --- docker-compose.yml ---------------------------------------------------------------------

def bourse_command(command) -> tuple[str, ...] | None:
    if not command:
        return None
    key = tuple(command[:2]) if command[0] == "serve" else tuple(command[:1])
    return key if key in COMMAND_OPTIONS else None


def check_compose(root: Path, accepted: dict[tuple[str, ...], set[str]]) -> None:
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    services = compose["services"]
    bourse = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("bourse")}
    if not bourse:
        problem("docker-compose.yml: no service runs the bourse image")
    for name, service in services.items():
        depends = service.get("depends_on", {})
        for dep in depends if isinstance(depends, list) else depends.keys():
            if dep not in services:
                problem(f"docker-compose.yml: {name} depends on {dep}, which is not a service")
        if not service.get("deploy", {}).get("resources", {}).get("limits"):
            problem(f"docker-compose.yml: {name} has no resource limits")
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and not (root / source).exists():
                problem(f"docker-compose.yml: {name} mounts {source}, which does not exist")
    for name, service in bourse.items():
        command = bourse_command(service.get("command"))
        if command is None:
            problem(f"docker-compose.yml: {name} runs `bourse {service.get('command')}`, "
                    "not a known command")
            continue
        if command[0] == "serve":
            health = service.get("healthcheck", {})
            if health.get("disable") or not health.get("test"):
                problem(f"docker-compose.yml: {name} has no healthcheck")
        for var in service.get("environment", {}):
            if var not in accepted[command]:
                problem(f"docker-compose.yml: {name} sets {var}, which "
                        f"`bourse {' '.join(command)}` does not read")
        for var, value in service.get("environment", {}).items():
            if var.endswith(("_SHARED", "_PREMIUM")):
                for url in str(value).split(","):
                    host = re.sub(r"^\w+://", "", url).split(":")[0]
                    if host not in services:
                        problem(f"docker-compose.yml: {name}.{var} names {host}, not a service")
    prometheus = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
    scraped = set()
    for job in prometheus["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host = target.split(":")[0]
                scraped.add(host)
                if host != "localhost" and host not in services:
                    problem(f"deploy/prometheus/prometheus.yml: target {target} is not a service")
    for name, service in bourse.items():
        if service.get("command", [""])[0] == "serve" and name not in scraped:
            problem(f"deploy/prometheus/prometheus.yml: {name} is not scraped")


# --- rendered Kubernetes manifests ----------------------------------------------------------

def check_overlay(path: Path, accepted, served: set[str], vpa_schema: dict) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    where = path.stem
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in by_kind.get("ConfigMap", [])}
    for secret in by_kind.get("Secret", []):
        problem(f"{where}: Secret {secret['metadata']['name']} is rendered with its values; "
                "reference Secrets instead")
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    if len(deployments) != 9:
        problem(f"{where}: {len(deployments)} Deployments, expected 9 (8 pools and the gateway)")
    hpa_targets = {d["spec"]["scaleTargetRef"]["name"]: d for d in by_kind.get("HorizontalPodAutoscaler", [])}
    vpa_targets = {d["spec"]["targetRef"]["name"]: d for d in by_kind.get("VerticalPodAutoscaler", [])}
    headless = {d["metadata"]["name"] for d in by_kind.get("Service", [])
                if d["spec"].get("clusterIP") == "None"}
    pdb_selectors = [d["spec"]["selector"]["matchLabels"] for d in by_kind.get("PodDisruptionBudget", [])]

    for vpa in by_kind.get("VerticalPodAutoscaler", []):
        try:
            jsonschema.validate(vpa, vpa_schema)
        except jsonschema.ValidationError as error:
            problem(f"{where}: VerticalPodAutoscaler {vpa['metadata']['name']}: {error.message}")
        if vpa["spec"].get("updatePolicy", {}).get("updateMode") != "Off":
            problem(f"{where}: VPA {vpa['metadata']['name']} is not in recommendation mode (Off)")

    workloads = list(deployments.values()) + by_kind.get("Job", [])
    for workload in workloads:
        name = f"{workload['kind']} {workload['metadata']['name']}"
        pod = workload["spec"]["template"]["spec"]
        pod_labels = workload["spec"]["template"]["metadata"].get("labels", {})
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problem(f"{where}: {name} does not set runAsNonRoot")
        for container in pod["containers"]:
            sc = container.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False:
                problem(f"{where}: {name} container {container['name']} needs readOnlyRootFilesystem "
                        "and allowPrivilegeEscalation: false")
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(part, {})):
                    problem(f"{where}: {name} container {container['name']} lacks cpu/memory {part}")
            for env in container.get("env", []):
                value = str(env.get("value", ""))
                if re.search(r"://[^/@\s]*:[^/@\s]+@", value):
                    problem(f"{where}: {name} has a password in {env['name']}; use a secretKeyRef")
            command = bourse_command(container.get("args"))
            if command is None:
                problem(f"{where}: {name} runs `bourse {container.get('args')}`, not a known command")
                continue
            names = {env["name"] for env in container.get("env", [])}
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if ref is not None:
                    if ref not in config_maps:
                        problem(f"{where}: {name} reads ConfigMap {ref}, which is not rendered")
                    names |= set(config_maps.get(ref, {}))
                if "secretRef" in source:
                    problem(f"{where}: {name} imports a whole Secret (envFrom); name each variable")
            for var in sorted(names - accepted[command]):
                problem(f"{where}: {name} sets {var}, which `bourse {' '.join(command)}` does not read")
        if workload["kind"] != "Deployment":
            continue
        for container in pod["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe not in container:
                    problem(f"{where}: {name} has no {probe}")
            ready = container.get("readinessProbe", {}).get("httpGet", {}).get("path")
            if ready != "/health/ready":
                problem(f"{where}: {name} readiness probe is {ready}, not /health/ready")
        if not pod.get("topologySpreadConstraints"):
            problem(f"{where}: {name} has no topology spread")
        deployment = workload["metadata"]["name"]
        hpa = hpa_targets.get(deployment)
        if hpa is None:
            problem(f"{where}: {name} has no HPA")
        else:
            kinds = {m["type"] for m in hpa["spec"]["metrics"]}
            if kinds != {"Resource", "Pods"}:
                problem(f"{where}: HPA of {deployment} should scale on CPU and a request rate")
            for metric in hpa["spec"]["metrics"]:
                if metric["type"] == "Pods" and metric["pods"]["metric"]["name"] not in served:
                    problem(f"{where}: HPA of {deployment} scales on "
                            f"{metric['pods']['metric']['name']}, which the Prometheus adapter "
                            "rules do not serve")
        if not any(all(pod_labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors):
            problem(f"{where}: {name} has no PodDisruptionBudget")
        if pod_labels.get("app.kubernetes.io/component") == "grpc-service":
            if deployment not in vpa_targets:
                problem(f"{where}: {name} has no VPA")
            if deployment not in headless:
                problem(f"{where}: {name} has no headless Service of the same name")
    policies = by_kind.get("NetworkPolicy", [])
    for deployment in deployments.values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selected = [p for p in policies
                    if "Ingress" in p["spec"].get("policyTypes", [])
                    and p["spec"]["podSelector"].get("matchLabels")
                    and all(labels.get(k) == v for k, v in p["spec"]["podSelector"]["matchLabels"].items())
                    and p["metadata"]["name"] != "allow-prometheus-scrape"]
        if not selected:
            problem(f"{where}: no NetworkPolicy says who may reach {deployment['metadata']['name']}")


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    rendered = Path(sys.argv[2])
    accepted = accepted_env(root)
    exported = exported_metrics(root)
    recorded = check_rules(root, exported)
    check_dashboards(root, exported | recorded | EXTERNAL_METRICS)
    served = check_adapter(root, exported)
    check_compose(root, accepted)
    vpa_schema = json.loads((root / "deploy/tests/schemas/verticalpodautoscaler-v1.json").read_text())
    overlays = sorted(rendered.glob("*.yaml"))
    if not overlays:
        problem(f"{rendered}: no rendered overlays")
    for path in overlays:
        check_overlay(path, accepted, served, vpa_schema)
    for line in PROBLEMS:
        print(f"  problem: {line}")
    print(f"check_deploy: {len(exported)} exported series, "
          f"{sum(len(v) for v in accepted.values())} command/variable pairs, "
          f"{len(overlays)} overlays, {len(PROBLEMS)} problems")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
