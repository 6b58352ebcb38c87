"""Vulnerability part of ``make bench``: feed import and matching, each against its own baseline.

  import  `import_feeds` of the whole ../shared/feeds vs. `json.load` of the same files (the floor)
  match   matching an image's SBOM against the DB (ms, packages/s)
  scan    `containerguard scan image` vs. `containerguard sbom` on the same image, warm layer cache
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from containerguard.pipeline.scan import match_sbom
from containerguard.sbom.formats.base import read_document
from containerguard.vulndb.build import FeedInput, import_feeds
from containerguard.vulndb.store import SqliteVulnStore

FEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "feeds"


def median_of(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_import(rounds: int) -> tuple[Path, list[tuple[str, float, float | None]]]:
    """Import time vs. json.load floor; returns the DB path and (name, value, target) ratio rows."""
    files = sorted(p for p in FEEDS.rglob("*.json") if "_meta" not in p.parts)

    def floor() -> None:
        for path in files:
            with open(path, "rb") as fh:
                json.load(fh)

    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-db-"))
    counter = iter(range(1000))

    def ours() -> None:
        import_feeds([FeedInput(FEEDS)], tmp / f"db{next(counter)}" / "vulns.sqlite")

    t_floor, t_ours = median_of(floor, rounds), median_of(ours, rounds)
    db = tmp / "final" / "vulns.sqlite"
    report = import_feeds([FeedInput(FEEDS)], db)
    records = report.records
    print(f"  import of {FEEDS} ({len(files)} files{f', {records} records' if records else ''}):")
    print(f"    json.load floor {t_floor:6.2f} s   import {t_ours:6.2f} s"
          + (f"   ({records / t_ours:,.0f} records/s)" if records else ""))
    return db, [("import / json.load", t_ours / t_floor, None)]


def bench_match(db: Path, sbom_json: Path, rounds: int) -> None:
    """Matching alone, from a stored SBOM."""
    sbom = read_document(json.loads(sbom_json.read_text()))
    store = SqliteVulnStore(db)
    t = median_of(lambda: match_sbom(sbom, store), rounds)
    result = match_sbom(sbom, store)
    print(f"  matching {len(sbom.packages)} packages: {t * 1000:.0f} ms "
          f"({len(sbom.packages) / t:,.0f} packages/s), {len(result.findings)} findings")


def main() -> int:
    """Stand-alone use: python bench/vulns.py SBOM.json"""
    rounds = int(os.environ.get("CG_BENCH_ROUNDS", "3"))
    db, rows = bench_import(rounds)
    if len(sys.argv) > 1:
        bench_match(db, Path(sys.argv[1]), rounds)
    for name, value, _ in rows:
        print(f"  {name:28s} {value:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
