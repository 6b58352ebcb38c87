"""Server part of ``make bench``: the security center under scan-on-push load, each number next to its floor.

One real ``containerguard server`` (embedded SQLite, default workers) and one real ``docker-registry``
notifying it; small distinct Alpine images pushed with ``skopeo copy`` from OCI layouts.

  latency  push end -> scan done and visible through the API, one push at a time (median, p95)
  burst    50 pushes at once: scans/minute, vs. the same 50 images scanned back to back by
           ``containerguard scan image`` (the floor: no queue, no store, no HTTP)
  list     p95 of ``GET /api/v1/images`` and ``GET /api/v1/images/{digest}/vulnerabilities`` with
           10,000 findings stored (inserted through the store's repository functions before start)

Stand-alone: ``python bench/server.py`` (needs docker-registry, skopeo and ../shared/feeds/alpine).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
for helper in (ROOT / "tests" / "integration", ROOT / "tests" / "unit" / "sources"):
    if str(helper) not in sys.path:
        sys.path.insert(0, str(helper))

from cg_server import ServerProcess, cli, server_env, wait_for  # noqa: E402
from imagebuilder import OciLayout, build_image  # noqa: E402
from registry_server import HAVE_TOOLS, Notification, free_port, push, start_registry  # noqa: E402

from containerguard.models.advisory import Severity  # noqa: E402
from containerguard.models.finding import Finding  # noqa: E402
from containerguard.models.sbom import Location, Package  # noqa: E402
from containerguard.store.db import Store, migrate  # noqa: E402
from containerguard.store.findings import sync_findings  # noqa: E402
from containerguard.store.images import ensure_image, set_counts  # noqa: E402

FEEDS = ROOT.parent / "shared" / "feeds" / "alpine"
LATENCY_PUSHES = int(os.environ.get("CG_BENCH_LATENCY_PUSHES", "20"))
BURST = int(os.environ.get("CG_BENCH_BURST", "50"))
STORED_IMAGES, FINDINGS_PER_IMAGE = 100, 100
API_GETS = int(os.environ.get("CG_BENCH_API_GETS", "300"))
ALPINE_OS = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n'
LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method: defined for small samples)."""
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def ms(value: float) -> str:
    return f"{value * 1000:7.1f} ms"


def layout_of(root: Path, names: list[str]) -> Path:
    """One OCI layout holding a distinct small image per name (tag = name): Alpine with a vulnerable
    openssl (so matching has work to do) and one package of its own (so every digest differs)."""
    layout = OciLayout(root)
    for name in names:
        apk = (f"P:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\nP:libssl1.1\nV:1.1.1d-r0\nA:x86_64\no:openssl\n\n"
               f"P:{name}\nV:1.0-r0\nA:x86_64\no:{name}\n\n").encode()
        image = build_image([{"etc/os-release": ALPINE_OS, "lib/apk/db/installed": apk}])
        layout.tag(layout.add_image(image), name)
    layout.write()
    return root


def store_findings(url: str) -> str:
    """10,000 findings on 100 images of a registry nobody pushes to; returns one image's digest."""
    store = Store(url)
    migrate(store.engine)
    digest = ""
    try:
        for n in range(STORED_IMAGES):
            with store.session() as session:
                digest = f"sha256:{n:064x}"
                image = ensure_image(session, "stored.bench.invalid", f"app{n}", digest)
                findings = []
                for k in range(FINDINGS_PER_IMAGE):
                    level = LEVELS[k % len(LEVELS)]
                    package = Package("apk", f"pkg{k}", "1.0-r0", source_name=f"pkg{k}",
                                      locations=(Location("lib/apk/db/installed", "sha256:" + "d" * 64),))
                    findings.append(Finding(
                        id=f"CVE-2099-{k:05d}", aliases=(), package=package, installed_version="1.0-r0",
                        fixed_version="1.0-r1", fix_state="fixed",
                        severity=Severity(level, "cvss_v3", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
                        title=f"pkg{k}: stored flaw", description="Inserted by bench/server.py.",
                        references=(f"https://example.invalid/CVE-2099-{k:05d}",), category="OS"))
                sync_findings(session, image, findings)
                set_counts(image, {level: FINDINGS_PER_IMAGE // len(LEVELS) for level in LEVELS})
                image.health, image.tags = "Unhealthy", ["1"]
    finally:
        store.close()
    return digest


def timed_gets(client: httpx.Client, path: str, count: int, params: dict[str, Any]) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(path, params=params)
        out.append(time.perf_counter() - start)
        if response.status_code != 200 or not response.json()["items"]:
            raise SystemExit(f"bench: GET {path} answered {response.status_code}: {response.text[:300]}")
    return out


def scanned(server: ServerProcess, host: str, prefix: str) -> Callable[[], list[dict[str, Any]]]:
    """A probe: the images of repositories starting with ``prefix`` whose scan has ended."""
    def probe() -> list[dict[str, Any]]:
        items = server.get("/api/v1/images", registry=host, limit=500)["items"]
        return [i for i in items if i["repository"].startswith(prefix) and i["health"] != "Pending"]
    return probe


def server_section(tmp: Path) -> bool:
    """Run the three measurements and print them; False when a target is missed."""
    if not HAVE_TOOLS or not FEEDS.is_dir():
        print(f"\n(server benchmarks skipped: needs docker-registry, skopeo and {FEEDS})")
        return True
    print("\nsecurity center server (scan on push, API)", flush=True)
    started = time.perf_counter()
    home = tmp / "server-home"
    env = server_env(home, "")
    cli(env, "db", "import", "-q", str(FEEDS))
    token = cli(env, "token", "create", "--role", "admin").strip()
    stored_digest = store_findings(env.get("CONTAINERGUARD_DATABASE_URL") or f"sqlite:///{home / 'containerguard.db'}")
    latency_names = [f"lat{n}" for n in range(LATENCY_PUSHES)]
    burst_names = [f"burst{n}" for n in range(BURST)]
    layout = layout_of(tmp / "server-layout", latency_names + burst_names)
    server = ServerProcess(env, free_port(), tmp / "server.log", token).start()
    try:
        ok = _measure(server, tmp, layout, latency_names, burst_names, stored_digest)
    except BaseException:
        print(server.log.read_text()[-4000:])
        raise
    finally:
        server.stop()
    print(f"  (server section took {time.perf_counter() - started:.0f} s)")
    return ok


def _measure(server: ServerProcess, tmp: Path, layout: Path, latency_names: list[str], burst_names: list[str],
             stored_digest: str) -> bool:
    # -- list latency with 10,000 stored findings (before any scan load) ------------------------
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as client:
        timed_gets(client, "/api/v1/images", 5, {})  # warm-up
        half = API_GETS // 2
        t_list = timed_gets(client, "/api/v1/images", half, {"limit": 100})
        t_vulns = timed_gets(client, f"/api/v1/images/{stored_digest}/vulnerabilities", API_GETS - half,
                             {"limit": 100})
    total = STORED_IMAGES * FINDINGS_PER_IMAGE
    print(f"  API with {total:,} stored findings on {STORED_IMAGES} images, {API_GETS} GETs (100 items a page):")
    print(f"    GET /images                    median {ms(statistics.median(t_list))}   p95 {ms(p95(t_list))}")
    print(f"    GET /images/{{d}}/vulnerabilities median {ms(statistics.median(t_vulns))}   p95 {ms(p95(t_vulns))}")

    # -- a registry notifying the server ---------------------------------------------------------
    port = free_port()
    host = f"127.0.0.1:{port}"
    created = server.api("POST", "/api/v1/registries", json={"name": "bench", "url": f"http://{host}",
                                                               "insecure": True})
    if created.status_code != 201:
        raise SystemExit(f"bench: registering the registry failed: {created.text}")
    webhook = created.json()["webhook"]
    registry_id = created.json()["id"]
    wait_for("the registration crawl", lambda: server.get(f"/api/v1/registries/{registry_id}")["last_crawl"])
    with start_registry(tmp / "server-registry", port=port,
                        notifications=[Notification(webhook["url"], webhook["authorization"])]):
        # -- webhook-to-result latency, one push at a time -------------------------------------
        latencies = []
        for name in latency_names:
            push(f"oci:{layout}:{name}", f"{host}/{name}:1")
            pushed = time.perf_counter()
            wait_for(f"the scan of {name}", lambda name=name: [
                i for i in server.get("/api/v1/images", registry=host, repository=name)["items"]
                if i["health"] != "Pending"], timeout=60, interval=0.01)
            latencies.append(time.perf_counter() - pushed)
        print(f"  push -> scan visible in the API, {len(latencies)} single pushes:")
        print(f"    median {ms(statistics.median(latencies))}   p95 {ms(p95(latencies))}   "
              f"max {ms(max(latencies))}")

        # -- a burst of pushes -----------------------------------------------------------------
        burst_start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda n: push(f"oci:{layout}:{n}", f"{host}/{n}:1"), burst_names))
        pushes_done = time.perf_counter()
        wait_for("the burst scans", lambda: len(scanned(server, host, "burst")()) == len(burst_names) or None,
                 timeout=300, interval=0.05)
        burst_wall = time.perf_counter() - burst_start
        server_rate = len(burst_names) / burst_wall * 60
        print(f"  burst of {len(burst_names)} pushes (8 skopeo copies at a time; pushes took "
              f"{pushes_done - burst_start:.1f} s): all scanned {burst_wall:.1f} s after the first push"
              f" -> {server_rate:.0f} scans/min")

        # -- the floor: the same images, `containerguard scan image` back to back -----------------
        floor_home = tmp / "floor-home"
        (floor_home / "db").mkdir(parents=True)
        shutil.copy(Path(server.env["CONTAINERGUARD_HOME"]) / "db" / "vulns.sqlite", floor_home / "db")
        floor_env = {**os.environ, "CONTAINERGUARD_HOME": str(floor_home)}
        floor_start = time.perf_counter()
        for name in burst_names:
            subprocess.run([sys.executable, "-m", "containerguard", "scan", "image", "-q", "-f", "json", "-o",
                            os.devnull, f"{host}/{name}:1"], env=floor_env, check=True,
                           stdout=subprocess.DEVNULL)
        floor_wall = time.perf_counter() - floor_start
        floor_rate = len(burst_names) / floor_wall * 60
        print(f"  floor: the same {len(burst_names)} scans by the CLI back to back: {floor_wall:.1f} s"
              f" -> {floor_rate:.0f} scans/min")
    failed = [s for s in server.get("/api/v1/scans", limit=500)["items"] if s["status"] != "done"]
    if failed:
        print(f"  NOTE: {len(failed)} scan(s) did not end done: {failed[:2]}")

    checks = [("burst scans/min / CLI floor", server_rate / floor_rate, 1.0, ">"),
              ("push->result p95 (s)", p95(latencies), 5.0, "<"),
              ("GET /images p95 (s)", p95(t_list), 0.25, "<"),
              ("GET vulnerabilities p95 (s)", p95(t_vulns), 0.25, "<")]
    print("\n  ratio / number                   value   target   ok")
    ok = not failed
    for name, value, target, sense in checks:
        good = value > target if sense == ">" else value < target
        print(f"  {name:30s} {value:7.2f}   {sense} {target:<5}  {'yes' if good else 'NO'}")
        ok = ok and good
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cg-bench-server-") as tmp:
        return 0 if server_section(Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
