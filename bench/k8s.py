"""``make bench`` part for ``scan k8s``: assessing 5,000 generated workloads vs. only parsing them.

The workloads are variations of real manifests (tests/fixtures/k8s/realistic: Online Boutique style
hardened Deployments, the guestbook, the dashboard): renamed, spread over namespaces, with security
settings toggled so every check has passes and failures. ``bench_k8s()`` returns medians in seconds
and the assess/parse ratio; run this file directly to print them.
"""

from __future__ import annotations

import copy
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from containerguard.pipeline.k8s_audit import audit  # noqa: E402
from containerguard.sources.k8s_manifests import read_paths  # noqa: E402

TEMPLATES = ROOT / "tests/fixtures/k8s/realistic"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Pod"}


def _templates() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(TEMPLATES.rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text())
                 if isinstance(d, dict) and d.get("kind") in WORKLOAD_KINDS]
    return docs


def _vary(doc: dict[str, Any], i: int, rng: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["metadata"]["name"] = f"{doc['metadata']['name']}-{i}"
    out["metadata"]["namespace"] = f"team-{i % 50}"
    spec = out["spec"] if out["kind"] == "Pod" else out["spec"]["template"]["spec"]
    for c in spec.get("containers", []):
        c["image"] = f"{c['image'].split(':')[0]}:{rng.choice(['1.0', '2.3.1', 'latest'])}"
        sc = c.setdefault("securityContext", {})
        if rng.random() < 0.2:
            sc["privileged"] = True
        if rng.random() < 0.3:
            sc.setdefault("capabilities", {})["add"] = [rng.choice(["NET_ADMIN", "SYS_ADMIN", "CHOWN"])]
    if rng.random() < 0.1:
        spec["hostNetwork"] = True
    return out


def generate(count: int, path: Path, seed: int = 6) -> None:
    """Write ``count`` workloads as one multi-document YAML file."""
    rng = random.Random(seed)
    templates = _templates()
    docs = [_vary(templates[i % len(templates)], i, rng) for i in range(count)]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump_all(docs, Dumper=dumper, sort_keys=False))


def bench_k8s(count: int = 5000, rounds: int = 3) -> dict[str, float]:
    """Median seconds to parse ``count`` workloads, and to parse and assess them with every check."""
    with tempfile.TemporaryDirectory(prefix="cg-bench-k8s-") as tmp:
        path = Path(tmp) / "workloads.yaml"
        generate(count, path)
        parse, full = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            collected = read_paths([str(path)])
            parse.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = audit(read_paths([str(path)]))
            full.append(time.perf_counter() - start)
            assert len(collected.objects) == count and result.failures
    p, f = statistics.median(parse), statistics.median(full)
    return {"workloads": count, "parse_s": p, "parse_and_assess_s": f, "ratio": f / p}


if __name__ == "__main__":
    stats = bench_k8s()
    print(f"k8s: {stats['workloads']:.0f} workloads  parse {stats['parse_s']:.2f}s  "
          f"parse+assess {stats['parse_and_assess_s']:.2f}s  ratio {stats['ratio']:.2f}x")
