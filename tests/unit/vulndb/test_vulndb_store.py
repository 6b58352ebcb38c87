"""The SQLite store and the build: real shared feeds, merge rules, atomic swap, bad databases."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from vulndb_helpers import FEEDS, osv, write_json

from containerguard.errors import FeedError, VulnDbError
from containerguard.models.advisory import Advisory
from containerguard.vulndb import build
from containerguard.vulndb.build import FeedInput, import_feeds
from containerguard.vulndb.store import SqliteVulnStore
from needs import missing

needs_feeds = pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/feeds is not present")

OSV_FOLDERS = {"pypi": ("pypi",), "go": ("go",), "npm": ("npm_ghsa", "npm_nswg"), "ubuntu": ("ubuntu",),
               "alpine": ("alpine_osv",), "debian": ("debian",)}


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, build.ImportReport]:
    """Every folder of ../shared/feeds imported into one database."""
    if not FEEDS.is_dir():
        missing("../shared/feeds is not present")
    db = tmp_path_factory.mktemp("shared") / "db" / "vulns.sqlite"
    inputs = [FeedInput(FEEDS / folder) for folder in OSV_FOLDERS]
    inputs.append(FeedInput(FEEDS / "_source" / "alpine-secdb"))
    return db, import_feeds(inputs, db)


@needs_feeds
def test_shared_feed_counts_match_meta(shared_db: tuple[Path, build.ImportReport]) -> None:
    _, report = shared_db
    counts = json.loads((FEEDS / "_meta" / "counts.json").read_text())
    by_location = {Path(s.location).name: s for s in report.sources}
    for folder, keys in OSV_FOLDERS.items():
        stats = by_location[folder]
        assert stats.source == "osv"
        assert stats.records == sum(counts[k] for k in keys), folder
        assert stats.malformed == 0, stats.reasons
        assert stats.added == stats.records
    secdb = by_location["alpine-secdb"]
    assert secdb.source == "alpine-secdb"
    assert secdb.documents == counts["alpine_secdb_files"]
    # The one malformed entry in the real secdb: heimdal 7.4.0-r0 with an empty fix list.
    assert secdb.malformed == 1 and "heimdal" in secdb.reasons[0]


@needs_feeds
def test_import_is_fast(shared_db: tuple[Path, build.ImportReport]) -> None:
    _, report = shared_db
    assert report.records / report.seconds > 1000, f"{report.records / report.seconds:.0f} records/s"


@needs_feeds
def test_every_osv_record_is_found_by_its_packages(shared_db: tuple[Path, build.ImportReport]) -> None:
    """Independent check: a plain loop over the OSV files agrees with lookup() on every package."""
    db, _ = shared_db
    memo: dict[tuple[str, str], list[Advisory]] = {}
    with SqliteVulnStore(db) as store:
        for folder in OSV_FOLDERS:
            for file in (FEEDS / folder).glob("*.json"):
                doc = json.loads(file.read_text())
                for entry in doc["affected"]:
                    pkg = entry.get("package")
                    if not pkg:
                        continue
                    key = (pkg["ecosystem"], pkg["name"])
                    if key not in memo:
                        memo[key] = store.lookup(*key)
                    found = [a for a in memo[key] if a.id == doc["id"]]
                    assert len(found) == 1, (doc["id"], pkg)
                    mine = found[0].affected
                    assert {a.ecosystem for a in mine} == {pkg["ecosystem"]}
                    expected = [[next(iter(e.items())) for e in r["events"]] for r in entry.get("ranges", [])]
                    assert any([[(ev.kind, ev.version) for ev in r.events] for r in a.ranges] == expected
                               for a in mine), (doc["id"], pkg)


@needs_feeds
@pytest.mark.parametrize(("ecosystem", "name", "record", "fixed"), [
    ("PyPI", "Django", "PYSEC-2021-98", "3.2.4"),           # CVE-2021-33203, Django 3.2.0 is affected
    ("PyPI", "requests", "PYSEC-2018-28", "2.20.0"),        # CVE-2018-18074
    ("npm", "lodash", "GHSA-jf85-cpcp-j695", "4.17.12"),    # CVE-2019-10744
    ("Debian:12", "gzip", "DEBIAN-CHANGELOG-CVE-2006-4334", "1.3.5-15"),
    ("Alpine:v3.11", "vte", "ALPINE-CVE-2012-2738", "0.28.2-r12"),
    ("Alpine:v3.11", "vte", "CVE-2012-2738", "0.28.2-r12"),  # the same fix, from the secdb importer
    ("Ubuntu:22.04:LTS", "glibc", "UBUNTU-CVE-2023-4911", "2.35-0ubuntu3.4"),
])
def test_known_records(shared_db: tuple[Path, build.ImportReport], ecosystem: str, name: str, record: str,
                       fixed: str) -> None:
    db, _ = shared_db
    with SqliteVulnStore(db) as store:
        hits = [a for a in store.lookup(ecosystem, name) if a.id == record]
    assert len(hits) == 1
    events = [(e.kind, e.version) for a in hits[0].affected for r in a.ranges for e in r.events]
    assert ("fixed", fixed) in events
    assert all(a.ecosystem == ecosystem for a in hits[0].affected)


@needs_feeds
def test_lookup_details(shared_db: tuple[Path, build.ImportReport]) -> None:
    db, _ = shared_db
    with SqliteVulnStore(db) as store:
        django = {a.id: a for a in store.lookup("PyPI", "Django")}
        assert "CVE-2021-33203" in django["PYSEC-2021-98"].aliases
        # PEP 503: any spelling of the name finds the same records.
        assert [a.id for a in store.lookup("PyPI", "PyYAML")] == [a.id for a in store.lookup("PyPI", "pyyaml")]
        assert store.lookup("PyPI", "PyYAML")
        # Distro scoping: a Debian 12 record is not an Alpine or Ubuntu one.
        assert store.lookup("Debian:12", "gzip")
        assert not store.lookup("Debian:11", "gzip")
        assert not store.lookup("debian:12", "gzip")  # OSV ecosystems are case-sensitive
        gzip = next(a for a in store.lookup("Debian:12", "gzip") if a.id == "DEBIAN-CHANGELOG-CVE-2006-4334")
        assert gzip.upstream == ("CVE-2006-4334",)
        assert [(s.level, s.source) for s in gzip.affected[0].severity] == [("HIGH", "debian-urgency")]
        # GHSA severity and CVSS vectors are kept with their source.
        lodash = next(a for a in store.lookup("npm", "lodash") if a.id == "GHSA-jf85-cpcp-j695")
        sources = {s.source: s for s in lodash.severity}
        assert sources["ghsa"].level == "CRITICAL"
        assert sources["cvss_v3"].vector.startswith("CVSS:3") and sources["cvss_v3"].score
        # Alpine secdb: one advisory per CVE per release, narrowed to the release looked up.
        secdb = [a for a in store.lookup("Alpine:v3.11", "vte") if a.source == "alpine-secdb"]
        assert secdb and all(x.ecosystem == "Alpine:v3.11" for a in secdb for x in a.affected)
        assert "Go" in store.ecosystems() and "Debian:12" in store.ecosystems()
        status = store.status()
        assert status.schema_version == 1 and status.advisories > 3551


@needs_feeds
def test_reimport_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    inputs = [FeedInput(FEEDS / "pypi"), FeedInput(FEEDS / "_source" / "alpine-secdb")]
    first = import_feeds(inputs, db)
    with SqliteVulnStore(db) as store:
        before = store.lookup("PyPI", "django"), store.status()
    second = import_feeds(inputs, db)
    assert second.advisories == first.advisories
    assert all(s.added == s.updated == 0 and s.unchanged == s.records for s in second.sources)
    with SqliteVulnStore(db) as store:
        after = store.lookup("PyPI", "django"), store.status()
    assert after[0] == before[0]
    strip = [(s.source, s.location, s.records, s.malformed, s.last_modified) for s in after[1].sources]
    assert strip == [(s.source, s.location, s.records, s.malformed, s.last_modified) for s in before[1].sources]


def _fixed(db: Path, ecosystem: str = "PyPI", name: str = "demo-pkg") -> list[tuple[str, str]]:
    with SqliteVulnStore(db) as store:
        return [(a.id, e.version) for a in store.lookup(ecosystem, name)
                for x in a.affected for r in x.ranges for e in r.events if e.kind == "fixed"]


def test_newer_modified_replaces_older_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "db" / "vulns.sqlite"
    rec = tmp_path / "rec.json"
    write_json(rec, osv("OSV-1", "2024-01-01T00:00:00Z", fixed="1.0"))
    assert import_feeds([FeedInput(rec)], db).sources[0].added == 1
    write_json(rec, osv("OSV-1", "2024-02-01T00:00:00.5Z", fixed="1.1"))
    assert import_feeds([FeedInput(rec)], db).sources[0].updated == 1
    assert _fixed(db) == [("OSV-1", "1.1")]
    # Older: ignored, even though fractions would fool a plain string comparison.
    write_json(rec, osv("OSV-1", "2024-02-01T00:00:00Z", fixed="0.9"))
    assert import_feeds([FeedInput(rec)], db).sources[0].older == 1
    assert _fixed(db) == [("OSV-1", "1.1")]
    # A renamed package moves: the old index entry must go.
    write_json(rec, osv("OSV-1", "2024-03-01T00:00:00Z", fixed="2.0", name="other"))
    import_feeds([FeedInput(rec)], db)
    assert _fixed(db) == [] and _fixed(db, name="other") == [("OSV-1", "2.0")]


def test_withdrawn_records_are_kept_but_never_returned(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    folder = tmp_path / "feed"
    write_json(folder / "a.json", osv("OSV-A"))
    write_json(folder / "b.json", osv("OSV-B", ecosystem="Go", name="example.com/mod"))
    import_feeds([FeedInput(folder)], db)
    assert [a.id for a in SqliteVulnStore(db).lookup("PyPI", "demo-pkg")] == ["OSV-A"]
    write_json(folder / "a.json", osv("OSV-A", "2024-05-01T00:00:00Z", withdrawn="2024-05-01T00:00:00Z"))
    report = import_feeds([FeedInput(folder)], db)
    assert report.sources[0].updated == 1 and report.advisories == 1
    store = SqliteVulnStore(db)
    assert store.lookup("PyPI", "demo-pkg") == []
    assert store.ecosystems() == frozenset({"Go"})
    assert sqlite3.connect(db).execute("SELECT count(*) FROM advisories").fetchone()[0] == 2


def test_scan_keeps_its_database_during_an_import(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    rec = write_json(tmp_path / "r.json", osv("OSV-1", fixed="1.0"))
    import_feeds([FeedInput(rec)], db)
    old = SqliteVulnStore(db)
    write_json(rec, osv("OSV-1", "2025-01-01T00:00:00Z", fixed="9.9"))
    import_feeds([FeedInput(rec)], db)
    assert [r.events[-1].version for a in old.lookup("PyPI", "demo-pkg") for x in a.affected for r in x.ranges] \
        == ["1.0"]
    assert _fixed(db) == [("OSV-1", "9.9")]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".vulns.lock", "r.json", "vulns.sqlite"]


def test_missing_database() -> None:
    with pytest.raises(VulnDbError, match=r"no vulnerability database: run `containerguard db import PATH`"):
        SqliteVulnStore(Path("/nonexistent/vulns.sqlite"))


def test_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "vulns.sqlite"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(VulnDbError, match="not a"):
        SqliteVulnStore(bogus)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    with pytest.raises(VulnDbError, match="not a containerguard vulnerability database"):
        SqliteVulnStore(other)


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    rec = write_json(tmp_path / "r.json", osv("OSV-1"))
    import_feeds([FeedInput(rec)], db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(VulnDbError, match="schema version 7, newer than this containerguard supports"):
        SqliteVulnStore(db)
    with pytest.raises(VulnDbError, match="newer"):
        import_feeds([FeedInput(rec)], db)
    assert db.read_bytes() == before


def _state(db: Path) -> tuple[list[tuple[str, str]], int]:
    with SqliteVulnStore(db) as store:
        return _fixed(db), store.status().advisories


def test_full_disk_while_copying_keeps_old_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "vulns.sqlite"
    rec = write_json(tmp_path / "r.json", osv("OSV-1"))
    import_feeds([FeedInput(rec)], db)
    before = _state(db)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    write_json(rec, osv("OSV-1", "2025-01-01T00:00:00Z", fixed="2.0"))
    with pytest.raises(FeedError, match=r"disk full .* the previous database is unchanged"):
        import_feeds([FeedInput(rec)], db)
    assert _state(db) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_full_disk_inside_sqlite_keeps_old_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SQLITE_FULL: the temporary database may not grow past its current size."""
    db = tmp_path / "vulns.sqlite"
    rec = write_json(tmp_path / "r.json", osv("OSV-1"))
    import_feeds([FeedInput(rec)], db)
    before = _state(db)
    connect = build._connect

    def tiny(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(build, "_connect", tiny)
    folder = tmp_path / "big"
    for i in range(200):
        write_json(folder / f"{i}.json", osv(f"OSV-BIG-{i}", details="x" * 2000))
    with pytest.raises(FeedError, match="disk full"):
        import_feeds([FeedInput(folder)], db)
    assert _state(db) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_failed_feed_keeps_old_db(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    rec = write_json(tmp_path / "r.json", osv("OSV-1"))
    import_feeds([FeedInput(rec)], db)
    before = db.read_bytes()
    bad_zip = tmp_path / "all.zip"
    bad_zip.write_bytes(b"PK\x03\x04 this is not really a zip")
    good = write_json(tmp_path / "g.json", osv("OSV-2"))
    with pytest.raises(FeedError, match="not a readable zip archive"):
        import_feeds([FeedInput(good), FeedInput(bad_zip)], db)
    assert db.read_bytes() == before


def test_concurrent_import_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    rec = write_json(tmp_path / "r.json", osv("OSV-1"))
    holder = build.DbBuilder(db)
    holder.open()
    try:
        with pytest.raises(FeedError, match="another `db import`"):
            import_feeds([FeedInput(rec)], db)
    finally:
        holder.abort()
    assert not db.exists()
    import_feeds([FeedInput(rec)], db)
    assert db.exists()


def test_build_copies_do_not_leak(tmp_path: Path) -> None:
    """A stale temporary file from a killed import is cleaned up by the next one."""
    db = tmp_path / "vulns.sqlite"
    (tmp_path / ".vulns.sqlite.12345.tmp").write_bytes(b"junk")
    import_feeds([FeedInput(write_json(tmp_path / "r.json", osv("OSV-1")))], db)
    assert not list(tmp_path.glob(".*.tmp"))


def test_lookup_speed(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    folder = tmp_path / "feed"
    for i in range(300):
        write_json(folder / f"{i}.json", osv(f"OSV-{i}", name=f"pkg{i % 30}"))
    import_feeds([FeedInput(folder)], db)
    with SqliteVulnStore(db) as store:
        started = time.perf_counter()
        for _ in range(20):
            for i in range(30):
                assert len(store.lookup("PyPI", f"PKG{i}")) == 10
        assert time.perf_counter() - started < 2.0
    shutil.rmtree(folder)


@needs_feeds
def test_status_count_recorded_at_build_equals_a_full_count(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    report = import_feeds([FeedInput(FEEDS / "pypi")], db)
    with SqliteVulnStore(db) as store:
        recorded = store.status().advisories
    with sqlite3.connect(db) as conn:
        counted = conn.execute("SELECT count(*) FROM advisories WHERE withdrawn = ''").fetchone()[0]
        assert conn.execute("SELECT value FROM meta WHERE key = 'advisories'").fetchone() == (str(counted),)
        conn.execute("DELETE FROM meta WHERE key = 'advisories'")  # a database built before the count was kept
    conn.close()
    with SqliteVulnStore(db) as store:
        assert store.status().advisories == recorded == counted == report.advisories


@needs_feeds
def test_lookup_many_equals_one_lookup_per_pair(shared_db: tuple[Path, build.ImportReport],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = shared_db
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        indexed = conn.execute("SELECT ecosystem, name FROM affected_index ORDER BY ecosystem, name").fetchall()
    conn.close()
    keys = [(str(e), str(n)) for e, n in indexed[::40]]
    # Spellings the store normalises (PEP 503), a repeat, pairs with no record and an unknown ecosystem.
    keys += [("PyPI", "Django"), ("PyPI", "django"), ("PyPI", "DJANGO"), ("npm", "no-such-package-xyz"),
             ("Nowhere:1", "x"), keys[0]]
    monkeypatch.setattr(SqliteVulnStore, "_BATCH", 50)  # several batches per ecosystem
    with SqliteVulnStore(db) as store:
        many = store.lookup_many(keys)
        assert set(many) == set(keys)
        assert all(many[key] == store.lookup(*key) for key in keys)
        assert many[("PyPI", "Django")] and many[("npm", "no-such-package-xyz")] == []
        # Candidates carry the id and narrowed entries up front and load the same advisory on demand.
        candidates = store.candidates(keys)
        assert all([(c.id, c.affected) for c in candidates[key]] == [(a.id, a.affected) for a in many[key]]
                   and [c.load() for c in candidates[key]] == many[key] for key in keys)
