#!/usr/bin/env python3
"""Summarises a scripts/bench.sh run as Markdown: every run's numbers, each configuration as a
ratio to the one it differs from in one thing (REFERENCE), and the ramp's steps.

Usage: bench-summary.py DIR "MACHINE DESCRIPTION"

Reads DIR/<scenario>.<configuration>.json (reports of `bourse loadtest --json`, schema
bourse-loadtest/1) and the platform's counters scraped before and after each run, from which it
takes the gRPC calls the services handled per REST request and the cache hit rate.
"""

import json
import re
import sys
from pathlib import Path

CONFIGS = ["baseline", "no-batching-coalescing", "unlimited", "redis", "redis-cache"]
# What each configuration is compared with: the run that differs from it in one thing only.
REFERENCE = {
    "no-batching-coalescing": "baseline",
    "unlimited": "baseline",
    "redis": "baseline",
    "redis-cache": "unlimited",
}
SCENARIOS = ["mixed", "quotes"]
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metrics(path):
    """Prometheus text as a list of (name, labels, value)."""
    samples = []
    if not path.exists():
        return samples
    for line in path.read_text().splitlines():
        match = SAMPLE.match(line)
        if match and not line.startswith("#"):
            name, labels, value = match.groups()
            samples.append((name, dict(LABEL.findall(labels or "")), float(value)))
    return samples


def total(samples, name, keep=lambda labels: True):
    return sum(v for n, labels, v in samples if n == name and keep(labels))


def delta(before, after, name, keep=lambda labels: True):
    return total(after, name, keep) - total(before, name, keep)


def traffic(directory, run):
    """gRPC calls per REST request, and the cache hit rate, during one run."""
    before = metrics(directory / f"{run}.metrics-before.txt")
    after = metrics(directory / f"{run}.metrics-after.txt")
    rest = delta(before, after, "bourse_http_requests_total",
                 lambda labels: labels.get("route", "").startswith("/v1"))
    grpc = delta(before, after, "bourse_grpc_server_requests_total",
                 lambda labels: "health" not in labels.get("service", "").lower())
    l1 = delta(before, after, "bourse_cache_requests_total", lambda l: l.get("level") == "l1")
    hits = delta(before, after, "bourse_cache_requests_total", lambda l: l.get("result") == "hit")
    calls = grpc / rest if rest else None
    hit_rate = hits / l1 if l1 else None
    return calls, hit_rate


def ms(value):
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def ratio(value, base):
    return f"{value / base:.2f}×" if base else "n/a"


def main():
    directory = Path(sys.argv[1])
    machine = sys.argv[2] if len(sys.argv) > 2 else ""
    reports = {}
    for path in sorted(directory.glob("*.json")):
        report = json.loads(path.read_text())
        if report.get("schema") != "bourse-loadtest/1":
            continue
        scenario, config = path.stem.split(".", 1)
        reports[(scenario, config)] = report

    print(f"# Benchmark {directory.name}\n")
    print(f"`scripts/bench.sh` on {machine}. Open loop, both tiers at once at the design rates "
          "(shared 1,000 req/s, premium 500 req/s); latency counts from each request's scheduled "
          "send time.\n")
    print("| scenario | configuration | tier | throughput | success | p50 | p95 | p99 | p99.9 "
          "| max | gRPC calls per request | cache hit rate | SLA |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for scenario in SCENARIOS:
        for config in CONFIGS:
            report = reports.get((scenario, config))
            if report is None:
                continue
            calls, hit_rate = traffic(directory, f"{scenario}.{config}")
            for tier in report["tiers"]:
                latency = tier["latency"]
                failed = [c["objective"] for c in report["sla"]
                          if c["tier"] == tier["tier"] and not c["held"]]
                print(f'| {scenario} | {config} | {tier["tier"]} | {tier["throughput"]:,.1f} req/s '
                      f'| {tier["success_ratio"] * 100:.3f} % | {ms(latency["p50_ms"])} '
                      f'| {ms(latency["p95_ms"])} | {ms(latency["p99_ms"])} '
                      f'| {ms(latency["p999_ms"])} | {ms(latency["max_ms"])} '
                      f'| {"" if calls is None else f"{calls:.3f}"} '
                      f'| {"" if hit_rate is None else f"{hit_rate * 100:.1f} %"} '
                      f'| {"held" if not failed else "broken: " + ", ".join(failed)} |')

    print("\nEach configuration against the one it differs from in one thing, in the same run "
          "(p50 and p99 latency, and the gRPC calls the services handled per REST request; below "
          "1× is better):\n")
    print("| scenario | tier | configuration | compared with | p50 | p99 | gRPC calls per request |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: |")
    for scenario in SCENARIOS:
        for config, reference in REFERENCE.items():
            report = reports.get((scenario, config))
            base = reports.get((scenario, reference))
            if report is None or base is None:
                continue
            calls, _ = traffic(directory, f"{scenario}.{config}")
            base_calls, _ = traffic(directory, f"{scenario}.{reference}")
            for tier, base_tier in zip(report["tiers"], base["tiers"]):
                print(f'| {scenario} | {tier["tier"]} | {config} | {reference} '
                      f'| {ratio(tier["latency"]["p50_ms"], base_tier["latency"]["p50_ms"])} '
                      f'| {ratio(tier["latency"]["p99_ms"], base_tier["latency"]["p99_ms"])} '
                      f'| {"n/a" if calls is None or not base_calls else ratio(calls, base_calls)} |')

    ramp = reports.get(("ramp", "unlimited"))
    if ramp:
        print("\nRamp, built-in scenario, rate limits off: steps of 5 s, each adding 50 % of the "
              "design rates, until a step breaks the SLA or the time is spent:\n")
        print("| step | tier | rate | throughput | success | p95 | p99 | SLA |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for step in ramp["ramp"]:
            for tier in step["tiers"]:
                broken = [c["objective"] for c in step["sla"] if c["tier"] == tier["tier"] and not c["held"]]
                print(f'| {step["step"]} | {tier["tier"]} | {tier["rate"]:,.0f} req/s '
                      f'| {tier["throughput"]:,.1f} req/s | {tier["success_ratio"] * 100:.3f} % '
                      f'| {ms(tier["latency"]["p95_ms"])} | {ms(tier["latency"]["p99_ms"])} '
                      f'| {"held" if not broken else "broken: " + ", ".join(broken)} |')


if __name__ == "__main__":
    main()
