"""Rule engine throughput: audit events/s through the engine vs. only parsing them (the floor).

``measure()`` returns events/s for: parsing the JSONL into events (floor), parsing + Falco's k8s audit
rules, parsing + the built-in pack, and the engine alone on pre-parsed events. The replayed log mixes the
realistic fixture traffic (exec, privileged pods, RBAC changes …) with the reads that dominate a real API
server's audit log (get/list/watch by controllers and kubelets).

Usage: python bench/rules.py [EVENTS]   (default 200,000 events)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from containerguard.cli.detect import builtin_rule_files
from containerguard.rules.compiler import compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.loader import load_files
from containerguard.sources.events import k8s_audit
from containerguard.sources.events.base import ReadStats

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "rules"
TARGET = 50_000


def background_reads() -> list[bytes]:
    """The audit lines that dominate a real API server's log: get/list/watch (and status writes) by
    controllers, kubelets and monitoring, none of which should raise an alert."""
    reads: list[bytes] = []
    for i, (user, verb, resource) in enumerate([
        ("system:serviceaccount:kube-system:replicaset-controller", "list", "replicasets"),
        ("system:node:worker-1", "get", "nodes"), ("system:kube-scheduler", "watch", "pods"),
        ("system:serviceaccount:kube-system:endpointslice-controller", "update", "endpointslices"),
        ("system:node:worker-2", "patch", "pods"), ("kubernetes-admin", "get", "deployments"),
        ("system:kube-controller-manager", "get", "leases"), ("system:apiserver", "list", "namespaces"),
        ("system:serviceaccount:monitoring:prometheus", "list", "endpoints"),
    ]):
        reads.append(json.dumps({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": f"bg-{i}",
            "stage": "ResponseComplete", "requestURI": f"/api/v1/namespaces/default/{resource}?limit=500",
            "verb": verb, "user": {"username": user, "groups": ["system:authenticated"]},
            "sourceIPs": ["10.0.0.3"], "userAgent": "kube-controller-manager/v1.29.2",
            "objectRef": {"resource": resource, "namespace": "default", "apiVersion": "v1"},
            "responseStatus": {"metadata": {}, "code": 200},
            "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
            "stageTimestamp": "2024-05-01T10:00:00.002000Z",
            "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""},
        }, separators=(",", ":")).encode())
    return reads


def audit_log(count: int) -> list[bytes]:
    """``count`` audit lines: every fixture event, then background reads, in a 1:9 mix."""
    fixture = (FIXTURES / "events" / "audit.jsonl").read_bytes().splitlines()
    reads = background_reads()
    mix = fixture + reads * max(1, (9 * len(fixture)) // len(reads))
    return (mix * (count // len(mix) + 1))[:count]


def _rate(fn: Callable[[], int], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        n = fn()
        samples.append(n / (time.perf_counter() - start))
    return statistics.median(samples)


def measure(count: int = 200_000, rounds: int = 3) -> dict[str, float]:
    """events/s for the floor and for each rule set (median of ``rounds``)."""
    lines = audit_log(count)
    falco = compile_rules(load_files([FIXTURES / "k8s_audit_rules.yaml"]))
    builtin = compile_rules(load_files(builtin_rule_files()))

    def parse_only() -> int:
        return sum(1 for _ in k8s_audit.read_events(lines, ReadStats()))

    def through(compiled: object) -> Callable[[], int]:
        def run() -> int:
            engine = Engine(compiled)  # type: ignore[arg-type]
            for ev in k8s_audit.read_events(lines, ReadStats()):
                engine.process(ev)
            return engine.stats.events
        return run

    def engine_only() -> int:
        events = list(k8s_audit.read_events(lines, ReadStats()))
        engine = Engine(falco)
        start = time.perf_counter()
        for ev in events:
            engine.process(ev)
        elapsed = time.perf_counter() - start
        engine_only.seconds = elapsed  # type: ignore[attr-defined]
        return len(events)

    engine_rates = []
    for _ in range(rounds):
        n = engine_only()
        engine_rates.append(n / engine_only.seconds)  # type: ignore[attr-defined]
    return {
        "parse_only": _rate(parse_only, rounds),
        "parse_falco_k8s_rules": _rate(through(falco), rounds),
        "parse_builtin_pack": _rate(through(builtin), rounds),
        "engine_only_falco_k8s_rules": statistics.median(engine_rates),
    }


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    results = measure(count)
    for name, rate in results.items():
        print(f"{name:<30} {rate:>12,.0f} events/s")
    for name, key in (("Falco's k8s audit rules", "parse_falco_k8s_rules"),
                      ("the built-in pack", "parse_builtin_pack")):
        print(f"target {TARGET:,} events/s with {name}: {'met' if results[key] >= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
