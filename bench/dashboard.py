"""Dashboard and query part of ``make bench``: pages and a KQL summarize at scale, each next to its floor.

A store (embedded SQLite; ``CG_BENCH_DASHBOARD_PG=postgresql+psycopg://USER@HOST:PORT`` makes a throwaway
PostgreSQL database on that server instead) is filled with a
synthetic estate — 10,000 images and 1,000,000 findings, hosts, workloads and alerts — by bulk
INSERTs (tests/unit/web/seed.py), then, in one process, side by side:

  overview   ``GET /`` through the real application (session cookie, templates, SVG charts)
             vs. the raw SQL count queries behind it (the floor): the per-health sums of images, the
             health counts of hosts and workloads, the 24 h alert counts by severity and by tactic
  images     ``GET /images`` (first page, newest scan first) vs. the raw keyset SELECT of that page
             plus the match count (the floor)
  summarize  ``securityresources | where type == "containerguard/assessments/subassessments"
             | summarize count() by tostring(properties.status.severity)`` through the query engine
             vs. ``SELECT severity, count(*) FROM findings GROUP BY severity`` (the floor)

Each is run ROUNDS times interleaved with its floor; medians are reported. A page's floor is a few
milliseconds of SQL, so its ratio mostly measures template rendering, a fixed cost; what shows that
pages are paged and counted in the database is the second comparison: the same pages on a store 100
times smaller (100 images, 10,000 findings), which must answer in about the same time ("scale"
ratio). The overview's first view also pays a one-time rebuild of 30 days of trend history; that is
reported on its own.

Stand-alone: ``python bench/dashboard.py [IMAGES FINDINGS]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for helper in (ROOT / "tests" / "unit" / "web",):
    if str(helper) not in sys.path:
        sys.path.insert(0, str(helper))

from fastapi.testclient import TestClient  # noqa: E402
from seed import seed_estate  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402

from containerguard.api.app import create_app  # noqa: E402
from containerguard.config import Settings  # noqa: E402
from containerguard.jobs.config import ServerConfig  # noqa: E402
from containerguard.query.runner import run_query  # noqa: E402
from containerguard.store.db import Store, migrate  # noqa: E402
from containerguard.store.tokens import create_token  # noqa: E402

ROUNDS = int(os.environ.get("CG_BENCH_ROUNDS", "3"))
TARGETS = {"overview": 3.0, "summarize": 3.0, "overview_scale": 2.0, "images_scale": 2.0}
"""Ratio targets: against the floors (overview, summarize), and at 100x the data vs. a small store."""
SUMMARIZE = ('securityresources | where type == "containerguard/assessments/subassessments" '
             "| summarize count() by tostring(properties.status.severity)")
OVERVIEW_SQL = [
    "SELECT health, count(*), sum(critical), sum(high), sum(medium), sum(low), sum(negligible), sum(unknown) "
    "FROM images GROUP BY health",
    "SELECT health, count(*) FROM hosts GROUP BY health",
    "SELECT health, count(*) FROM cluster_workloads GROUP BY health",
    "SELECT count(*) FROM registries", "SELECT count(*) FROM clusters",
    "SELECT severity, count(*) FROM alerts WHERE last_seen >= :since AND status != 'dismissed' GROUP BY severity",
    "SELECT tactic, count(*) FROM alerts WHERE last_seen >= :since AND status != 'dismissed' GROUP BY tactic",
]
IMAGES_SQL = [
    "SELECT id, registry_host, repository, digest, tags, health, critical, high, medium, low, negligible, unknown, "
    "last_scan FROM images ORDER BY last_scan DESC, id DESC LIMIT 51",
    "SELECT count(*) FROM images",
]


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _raw(engine: Engine, statements: list[str]) -> Callable[[], None]:
    since = "2000-01-01 00:00:00"

    def run() -> None:
        with engine.connect() as conn:
            for sql in statements:
                conn.execute(text(sql), {"since": since} if ":since" in sql else {}).fetchall()
    return run


@contextmanager
def _database(server: str, home: Path) -> Iterator[str]:
    """A fresh database URL: a throwaway PostgreSQL database on ``server``, else SQLite under ``home``."""
    if not server:
        yield f"sqlite:///{home / 'cg.db'}"
        return
    name = f"cgbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rstrip('/')}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(images: int = 10_000, findings: int = 1_000_000, rounds: int = ROUNDS,
            pg_server: str = "") -> dict[str, Any]:
    """Seconds (medians) for each page/query and its floor, the ratios, and the one-time costs."""
    with tempfile.TemporaryDirectory(prefix="cg-bench-dash-") as tmp, _database(pg_server, Path(tmp)) as url:
        home = Path(tmp)
        store = Store(url)
        migrate(store.engine)
        start = time.perf_counter()
        seed_estate(store.engine, images=images, findings=findings)
        seeded = time.perf_counter() - start
        config = ServerConfig(settings=Settings(home=home), database_url=url)
        with TestClient(create_app(config, start_workers=False), follow_redirects=False) as client:
            with store.session() as session:
                token, _ = create_token(session, "reader", name="bench")
            assert client.post("/login", data={"token": token}).status_code == 303

            def page(path: str) -> Callable[[], None]:
                def get() -> None:
                    answer = client.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)
                return get

            first_overview = _timed(page("/"))
            pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
                "overview": (page("/"), _raw(store.engine, OVERVIEW_SQL)),
                "images": (page("/images"), _raw(store.engine, IMAGES_SQL)),
                "summarize": (lambda: run_query(store.engine, SUMMARIZE),
                              _raw(store.engine, ["SELECT severity, count(*) FROM findings GROUP BY severity"])),
            }
            for ours, floor in pairs.values():  # warm caches once, untimed
                ours(), floor()
            runs: dict[str, list[float]] = {f"{k}{s}": [] for k in pairs for s in ("", "_floor")}
            for _ in range(rounds):
                for name, (ours, floor) in pairs.items():
                    runs[name].append(_timed(ours))
                    runs[f"{name}_floor"].append(_timed(floor))
        store.engine.dispose()
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"seconds": med, "ratios": {k: med[k] / med[f"{k}_floor"] for k in pairs},
            "first_overview": first_overview, "seeded": seeded, "images": images, "findings": findings,
            "store": url.split(":", 1)[0]}


def dashboard_section(images: int = 10_000, findings: int = 1_000_000) -> bool:
    """Print the section; True when every ratio meets its target."""
    print(f"\ndashboard and query ({images:,} images, {findings:,} findings)", flush=True)
    server = os.environ.get("CG_BENCH_DASHBOARD_PG", "")
    r = measure(images, findings, pg_server=server)
    small = measure(max(images // 100, 1), max(findings // 100, 1), pg_server=server)
    sec = r["seconds"]
    for name in ("overview", "images"):
        r["ratios"][f"{name}_scale"] = sec[name] / small["seconds"][name]
    print(f"  store {r['store']}, seeded in {r['seeded']:.1f} s; first overview (one-time 30-day trend rebuild) "
          f"{r['first_overview'] * 1000:.0f} ms")
    for name in ("overview", "images", "summarize"):
        ratio = r["ratios"][name]
        target = f"< {TARGETS[name]:<4} {'yes' if ratio < TARGETS[name] else 'NO'}" if name in TARGETS \
            else "(no target: the floor is one small SELECT; see scale)"
        print(f"  {name:10s} {sec[name] * 1000:8.1f} ms   floor {sec[name + '_floor'] * 1000:8.1f} ms   "
              f"ratio {ratio:5.2f}  {target}")
    for name in ("overview", "images"):
        ratio, limit = r["ratios"][f"{name}_scale"], TARGETS[f"{name}_scale"]
        print(f"  {name:10s} at 100x the data: {sec[name] * 1000:.1f} ms vs {small['seconds'][name] * 1000:.1f} ms, "
              f"ratio {ratio:5.2f}  < {limit:<4} {'yes' if ratio < limit else 'NO'}")
    return all(r["ratios"][k] < t for k, t in TARGETS.items())


if __name__ == "__main__":
    counts = [int(a) for a in sys.argv[1:3]]
    sys.exit(0 if dashboard_section(*counts) else 1)
