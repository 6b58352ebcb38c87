"""The feed importers: OSV (file, folder, zip), Debian security tracker JSON, Alpine secdb JSON."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from vulndb_helpers import FEEDS, FIXTURES, osv, write_json

from containerguard.errors import FeedError
from containerguard.models.advisory import Advisory, Affected
from containerguard.vulndb.build import FeedInput, import_feeds
from containerguard.vulndb.feeds.alpine import AlpineSecdbFeed, entry_ids
from containerguard.vulndb.feeds.base import Malformed
from containerguard.vulndb.feeds.debian import DebianTrackerFeed
from containerguard.vulndb.feeds.osv import OsvFeed
from containerguard.vulndb.names import normalise_name
from containerguard.vulndb.store import SqliteVulnStore


def _parse_osv(doc: Any) -> Advisory | Malformed:
    (out,) = list(OsvFeed().parse(doc, "test.json"))
    return out


@pytest.mark.parametrize(("doc", "reason"), [
    ({"modified": "2024-01-01T00:00:00Z", "affected": []}, "without an id"),
    ({"id": "X-1", "affected": []}, "no modified"),
    ({"id": "X-1", "modified": "yesterday"}, "bad timestamp"),
    (osv("X-1") | {"affected": "PyPI"}, "affected is not a list"),
    (osv("X-1") | {"aliases": "CVE-1"}, "aliases is not a list"),
    ({**osv("X-1"), "affected": [{"package": {"ecosystem": "PyPI"}}]}, "needs an ecosystem and a name"),
    ({**osv("X-1"), "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]},
     "exactly one of"),
    ({**osv("X-1"), "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
                                  "ranges": [{"type": "ECOSYSTEM", "events": []}]}]}, "without events"),
    ({**osv("X-1"), "severity": [{"type": "CVSS_V3"}]}, "type and score"),
    ([1, 2], "not a JSON object"),
])
def test_osv_malformed(doc: Any, reason: str) -> None:
    out = _parse_osv(doc)
    assert isinstance(out, Malformed)
    assert reason in out.reason


def test_osv_fields() -> None:
    doc = {
        "id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-03-01T10:00:00.123Z", "published": "2024-01-01T00:00:00Z",
        "aliases": ["CVE-2024-1"], "related": ["OTHER-1"], "upstream": ["CVE-2024-1"], "summary": "s",
        "details": "d", "future_field": {"anything": True},
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                     {"type": "CVSS_V4", "score": "not a vector"}, {"type": "Ubuntu", "score": "medium"},
                     {"type": "SOMETHING_NEW", "score": "x"}],
        "database_specific": {"severity": "MODERATE"},
        "references": [{"type": "WEB", "url": "https://example.com/a"}, {"type": "WEB"}],
        "affected": [
            {"package": {"ecosystem": "npm", "name": "Left-Pad", "purl": "pkg:npm/left-pad"},
             "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.3.0"}]},
                        {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}, {"limit": "def"}]}],
             "versions": ["1.0.0"]},
            {"package": {"ecosystem": "Debian:12", "name": "left-pad"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.4-1"}]}],
             "ecosystem_specific": {"urgency": "unimportant"}},
            {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "left-pad"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
             "ecosystem_specific": {"ubuntu_priority": "high"}},
            {"ranges": [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}]}]},
        ],
    }
    adv = _parse_osv(doc)
    assert isinstance(adv, Advisory)
    assert (adv.aliases, adv.related, adv.upstream) == (("CVE-2024-1",), ("OTHER-1",), ("CVE-2024-1",))
    assert adv.references == ("https://example.com/a",)
    levels = [(s.source, s.level, s.score) for s in adv.severity]
    assert levels == [("cvss_v3", "CRITICAL", 9.8), ("cvss_v4", "UNKNOWN", None), ("ubuntu-priority", "MEDIUM", None),
                      ("ghsa", "MEDIUM", None)]
    assert adv.severity[0].vector.startswith("CVSS:3.1/")
    npm, deb, ubu = adv.affected
    assert (npm.ecosystem, npm.package, npm.purl, npm.versions) == ("npm", "Left-Pad", "pkg:npm/left-pad", ("1.0.0",))
    assert [(e.kind, e.version) for e in npm.ranges[0].events] == [("introduced", "1.0.0"), ("last_affected", "1.3.0")]
    assert npm.ranges[1].type == "GIT" and npm.fix_state == "not-fixed"
    assert deb.fix_state == "fixed"
    assert [(s.level, s.source) for s in deb.severity] == [("NEGLIGIBLE", "debian-urgency")]
    assert [(s.level, s.source) for s in ubu.severity] == [("HIGH", "ubuntu-priority")]


def test_folder_with_malformed_records(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    write_json(folder / "good.json", osv("OSV-GOOD"))
    write_json(folder / "extra-fields.json", osv("OSV-EXTRA", x_vendor={"a": 1}))  # unknown fields are allowed
    write_json(folder / "unknown-eco.json", osv("OSV-ECO", ecosystem="Plan9Ports", name="acme"))
    (folder / "bad.json").write_text('{"id": "OSV-BAD", "modified": ')
    write_json(folder / "noid.json", {"modified": "2024-01-01T00:00:00Z", "affected": []})
    write_json(folder / "sub" / "badrange.json",
               {**osv("OSV-R"), "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": [{}]}]})
    write_json(folder / "README.json", {"title": "not a feed"})
    (folder / "notes.txt").write_text("ignored")
    db = tmp_path / "vulns.sqlite"
    report = import_feeds([FeedInput(folder)], db)
    (stats,) = report.sources
    assert (stats.records, stats.malformed) == (3, 3)
    assert any("not JSON" in r for r in stats.reasons)
    assert any("without an id" in r for r in stats.reasons)
    assert any("range without a type" in r for r in stats.reasons)
    assert stats.unknown_ecosystems == {"Plan9Ports": 1}
    assert report.skipped == [str(folder / "README.json")]
    store = SqliteVulnStore(db)
    assert [a.id for a in store.lookup("PyPI", "Demo_Pkg")] == ["OSV-EXTRA", "OSV-GOOD"]
    assert [a.id for a in store.lookup("Plan9Ports", "acme")] == ["OSV-ECO"]


def test_single_file_errors(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(FeedError, match="not JSON"):
        import_feeds([FeedInput(bad)], db)
    other = write_json(tmp_path / "other.json", {"hello": "world"})
    with pytest.raises(FeedError, match="not a known feed format"):
        import_feeds([FeedInput(other)], db)
    with pytest.raises(FeedError, match="no such file"):
        import_feeds([FeedInput(tmp_path / "missing.json")], db)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FeedError, match="no feed records"):
        import_feeds([FeedInput(empty)], db)
    assert not db.exists()


def _zip(path: Path, members: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, doc in members.items():
            zf.writestr(name, json.dumps(doc))
    return path


def test_osv_zip(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "all.zip", {f"OSV-{i}.json": osv(f"OSV-{i}", name=f"p{i}") for i in range(50)})
    db = tmp_path / "vulns.sqlite"
    report = import_feeds([FeedInput(archive, "https://example.invalid/PyPI/all.zip")], db)
    assert report.records == 50 and report.sources[0].location == "https://example.invalid/PyPI/all.zip"
    assert [a.id for a in SqliteVulnStore(db).lookup("PyPI", "P7")] == ["OSV-7"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_zip(tmp_path: Path, damage: str) -> None:
    archive = _zip(tmp_path / "all.zip", {f"OSV-{i}.json": osv(f"OSV-{i}", details="x" * 500 + str(i))
                                          for i in range(20)})
    raw = bytearray(archive.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "garbage":
        raw = bytearray(b"PK\x03\x04" + b"\x00" * 100)
    else:
        raw[200] ^= 0xFF  # inside the first member's compressed data: a CRC or inflate error
    archive.write_bytes(bytes(raw))
    with pytest.raises(FeedError) as info:
        import_feeds([FeedInput(archive)], tmp_path / "vulns.sqlite")
    assert "\n" not in str(info.value)
    assert str(archive) in str(info.value)
    assert not (tmp_path / "vulns.sqlite").exists()


def _by_key(advisories: list[Advisory]) -> dict[tuple[str, str, str], Affected]:
    return {(a.id, x.ecosystem, x.package): x for a in advisories for x in a.affected}


def test_debian_tracker_states() -> None:
    doc = json.loads((FIXTURES / "debian-tracker.json").read_text())
    assert DebianTrackerFeed.accepts(doc) and not OsvFeed.accepts(doc) and not AlpineSecdbFeed.accepts(doc)
    assert DebianTrackerFeed.detect(FIXTURES / "debian-tracker.json")
    out = list(DebianTrackerFeed().parse(doc, "tracker.json"))
    advisories = [o for o in out if isinstance(o, Advisory)]
    malformed = [o.reason for o in out if isinstance(o, Malformed)]
    assert malformed == ["tracker.json: zlib CVE-2023-45853 bookworm: resolved without a usable fixed_version ('')"]
    got = _by_key(advisories)

    def state(cve: str, eco: str, pkg: str) -> tuple[str, list[tuple[str, str]], list[str]]:
        a = got[(cve, eco, pkg)]
        return (a.fix_state, [(e.kind, e.version) for r in a.ranges for e in r.events],
                [f"{s.level}/{s.source}" for s in a.severity])

    assert state("CVE-2024-0727", "Debian:12", "openssl") == (
        "fixed", [("introduced", "0"), ("fixed", "3.0.13-1~deb12u1")], [])
    assert state("CVE-2024-0727", "Debian:11", "openssl") == (
        "will-not-fix", [("introduced", "0")], ["LOW/debian-urgency"])          # <no-dsa>
    assert state("CVE-2024-2398", "Debian:12", "curl") == (
        "not-fixed", [("introduced", "0")], ["MEDIUM/debian-urgency"])          # open, unfixed
    assert state("CVE-2024-2398", "Debian:13", "curl")[0] == "fixed"
    assert state("CVE-2019-1010022", "Debian:12", "glibc") == (
        "not-fixed", [("introduced", "0")], ["NEGLIGIBLE/debian-urgency"])      # unimportant
    assert state("CVE-2024-33599", "Debian:12", "glibc")[0] == "will-not-fix"  # <postponed>
    assert state("CVE-2023-6228", "Debian:12", "tiff")[0] == "will-not-fix"    # <ignored>
    assert state("CVE-2023-6228", "Debian:10", "tiff")[0] == "will-not-fix"    # end-of-life
    assert state("TEMP-0841856-B18BAF", "Debian:12", "bash")[0] == "not-fixed"
    assert state("CVE-2022-3715", "Debian:11", "bash")[0] == "not-fixed"       # undetermined
    # One advisory per CVE, across source packages; sid is not a release.
    pkcs12 = next(a for a in advisories if a.id == "CVE-2024-0727")
    assert sorted((x.ecosystem, x.package) for x in pkcs12.affected) == [
        ("Debian:11", "openssl"), ("Debian:12", "openssl"), ("Debian:9", "openssl1.0")]
    assert pkcs12.source == "debian-tracker" and "https://bugs.debian.org/1061582" in pkcs12.references
    # <not-affected> everywhere: no advisory at all.
    assert "CVE-2023-9999" not in {a.id for a in advisories}


def test_debian_tracker_import_and_lookup(tmp_path: Path) -> None:
    db = tmp_path / "vulns.sqlite"
    report = import_feeds([FeedInput(FIXTURES / "debian-tracker.json")], db)
    (stats,) = report.sources
    assert (stats.source, stats.records, stats.malformed) == ("debian-tracker", 8, 1)
    store = SqliteVulnStore(db)
    openssl = store.lookup("Debian:12", "openssl")
    assert [a.id for a in openssl] == ["CVE-2024-0727"]
    assert [x.ecosystem for x in openssl[0].affected] == ["Debian:12"]
    assert store.lookup("Debian:12", "zlib") == []
    # Date-less feed: re-import is a no-op, a changed tracker replaces the record.
    assert import_feeds([FeedInput(FIXTURES / "debian-tracker.json")], db).sources[0].unchanged == 8
    doc = json.loads((FIXTURES / "debian-tracker.json").read_text())
    doc["curl"]["CVE-2024-2398"]["releases"]["bookworm"] = {"status": "resolved", "fixed_version": "7.88.1-10+deb12u6",
                                                             "urgency": "medium"}
    changed = write_json(tmp_path / "tracker.json", doc)
    assert import_feeds([FeedInput(changed)], db).sources[0].updated == 1
    assert store.lookup("Debian:12", "curl")[0].affected[0].fix_state == "not-fixed"  # still the old file
    (curl,) = SqliteVulnStore(db).lookup("Debian:12", "curl")
    assert curl.affected[0].fix_state == "fixed"


@pytest.mark.parametrize(("entry", "ids"), [
    ("CVE-2018-3639  XSA-263", ["CVE-2018-3639", "XSA-263"]),
    ("CVE_2019-2426", ["CVE-2019-2426"]),
    ("CVE 2019-1234", ["CVE-2019-1234"]),
    ("CVE-2017-8073.patch", ["CVE-2017-8073"]),
    ("CVE-2019-15167 (VRRP)", ["CVE-2019-15167"]),
    ("CVE-2017-17434-1", ["CVE-2017-17434"]),
    ("CVE-????-?????  XSA-295", ["XSA-295"]),
    ("wnpa-sec-2017-18", ["wnpa-sec-2017-18"]),
    ("see upstream", []),
    ("", []),
])
def test_secdb_entry_ids(entry: str, ids: list[str]) -> None:
    assert entry_ids(entry) == ids


def test_alpine_secdb() -> None:
    doc = json.loads((FIXTURES / "alpine-v3.18-main.json").read_text())
    feed = AlpineSecdbFeed()
    assert feed.accepts(doc) and feed.scope(doc) == "v3.18/main"
    out = list(feed.parse(doc, "main.json"))
    advisories = {a.id: a for a in out if isinstance(a, Advisory)}
    malformed = [o.reason for o in out if isinstance(o, Malformed)]
    assert len(malformed) == 3  # "see upstream", a non-list fix list, a package without a name
    assert "CVE-2022-1343" not in advisories  # "0": never affected
    openssl = advisories["CVE-2023-5363"].affected[0]
    assert (openssl.ecosystem, openssl.package, openssl.fix_state) == ("Alpine:v3.18", "openssl", "fixed")
    assert [(e.kind, e.version) for e in openssl.ranges[0].events] == [("introduced", "0"), ("fixed", "3.1.4-r1")]
    # Two CVEs fixed under one Xen advisory: two advisories, the XSA as their alias.
    assert advisories["CVE-2022-42332"].aliases == ("XSA-427",)
    assert advisories["CVE-2022-42333"].aliases == ("XSA-427",)
    assert advisories["XSA-428"].affected[0].package == "xen"
    assert "CVE-2019-1010220" in advisories  # CVE_ typo repaired


@pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/feeds is not present")
def test_secdb_and_osv_conversion_agree(tmp_path: Path) -> None:
    """The secdb importer reads the same data the shared alpine/ OSV records were converted from."""
    db = tmp_path / "vulns.sqlite"
    import_feeds([FeedInput(FEEDS / "alpine"), FeedInput(FEEDS / "_source" / "alpine-secdb")], db)
    store = SqliteVulnStore(db)
    for eco, pkg in [("Alpine:v3.11", "openssl"), ("Alpine:v3.9", "curl"), ("Alpine:v3.5", "xen")]:
        found = store.lookup(eco, pkg)
        osv_fixes = {(a.id.removeprefix("ALPINE-"), r.events[-1].version)
                     for a in found if a.source == "osv" for x in a.affected for r in x.ranges}
        secdb_fixes = {(a.id, r.events[-1].version)
                       for a in found if a.source == "alpine-secdb" for x in a.affected for r in x.ranges}
        cves = {f for f in secdb_fixes if f[0].startswith("CVE-")}
        assert cves and cves <= osv_fixes, (eco, pkg, cves - osv_fixes)


@pytest.mark.parametrize(("ecosystem", "raw", "normal"), [
    ("PyPI", "Zope.Interface", "zope-interface"),
    ("PyPI", "ruamel__yaml", "ruamel-yaml"),
    ("npm", "Axios", "axios"),
    ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
    ("Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"),
    ("Maven", "org.Apache:Foo", "org.Apache:Foo"),
    ("Debian:12", "libXrender", "libXrender"),
])
def test_name_normalisation(ecosystem: str, raw: str, normal: str) -> None:
    assert normalise_name(ecosystem, raw) == normal
