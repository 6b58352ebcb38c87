"""Matching against the real advisory data in ../shared/feeds, imported with the real importer.

Known CVEs must be found (and not past their fix), and an independent plain loop over the OSV JSON
files, comparing with oracle implementations (``packaging`` for PEP 440, python-debian for dpkg, a
SemVer 2.0 precedence written here), must agree with the matcher on every package.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from functools import cmp_to_key
from pathlib import Path
from typing import Any

import pytest
from debian.debian_support import Version as DebVersion
from packaging.version import InvalidVersion
from packaging.version import Version as PyVersion

from containerguard.models.artifact import ImageMetadata
from containerguard.models.finding import Finding
from containerguard.models.sbom import Distro, Package, Sbom
from containerguard.pipeline.scan import match_sbom
from containerguard.vulndb.build import FeedInput, import_feeds
from containerguard.vulndb.store import SqliteVulnStore

FEEDS = Path(__file__).resolve().parents[4] / "shared" / "feeds"
OSV_FOLDERS = ("debian", "ubuntu", "pypi", "npm", "go", "alpine")
BOOKWORM = Distro(id="debian", version_id="12", codename="bookworm")

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/feeds is not present")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SqliteVulnStore:
    db = tmp_path_factory.mktemp("vulndb") / "vuln.db"
    report = import_feeds([FeedInput(FEEDS / d) for d in OSV_FOLDERS], db)
    assert report.malformed == 0
    return SqliteVulnStore(db)


def _scan(store: SqliteVulnStore, *packages: Package, distro: Distro | None = BOOKWORM) -> list[Finding]:
    image = Sbom(artifact=ImageMetadata(name="t", source="dir", layers=()), distro=distro, packages=packages)
    return list(match_sbom(image, store).findings)


def _ids(findings: list[Finding]) -> set[str]:
    return {f.id for f in findings}


def test_django_cve_2021_33203(store: SqliteVulnStore) -> None:
    [hit] = [f for f in _scan(store, Package(type="pypi", name="Django", version="3.2.0")) if f.id == "CVE-2021-33203"]
    assert hit.fixed_version == "3.2.4" and hit.fix_state == "fixed"
    assert "GHSA-68w8-qjq3-2gfm" in hit.aliases and any(a.startswith("PYSEC-") for a in hit.aliases)
    assert hit.evidence[0].range == "ECOSYSTEM [3.2, 3.2.4)"
    for fixed in ("3.2.4", "3.2.5", "4.0"):
        assert "CVE-2021-33203" not in _ids(_scan(store, Package(type="pypi", name="django", version=fixed)))


def test_requests_cve_2018_18074(store: SqliteVulnStore) -> None:
    assert "CVE-2018-18074" in _ids(_scan(store, Package(type="pypi", name="requests", version="2.19.1")))
    assert "CVE-2018-18074" not in _ids(_scan(store, Package(type="pypi", name="requests", version="2.20.0")))


def test_lodash_cve_2019_10744(store: SqliteVulnStore) -> None:
    [hit] = [f for f in _scan(store, Package(type="npm", name="lodash", version="4.17.4")) if f.id == "CVE-2019-10744"]
    assert (hit.fixed_version, hit.aliases, hit.severity.source, hit.severity.level) == (
        "4.17.12", ("GHSA-jf85-cpcp-j695",), "cvss_v3", "CRITICAL")
    assert "CVE-2019-10744" not in _ids(_scan(store, Package(type="npm", name="lodash", version="4.17.12")))


def test_go_stdlib_of_a_go_1_19_binary(store: SqliteVulnStore) -> None:
    found = _scan(store, Package(type="golang", name="stdlib", version="v1.19.8"))
    by_id = {f.id: f for f in found}
    # CVE-2023-24540 (html/template) was fixed in 1.19.9 and 1.20.4.
    assert by_id["CVE-2023-24540"].fixed_version == "1.19.9"
    assert by_id["CVE-2023-24540"].evidence[0].range.startswith("SEMVER ")
    assert len(found) > 20
    later = _ids(_scan(store, Package(type="golang", name="stdlib", version="v1.19.9")))
    assert "CVE-2023-24540" not in later


def _bookworm_record(source: str) -> dict[str, Any]:
    for path in sorted((FEEDS / "debian").glob("*.json")):
        record = json.loads(path.read_text())
        if record["affected"][0]["package"]["name"] == source:
            return dict(record)
    raise AssertionError(f"no record for {source}")


def test_bookworm_cve_by_source_package(store: SqliteVulnStore) -> None:
    record = _bookworm_record("openssl")
    cve = record["upstream"][0]
    fixed = next(e["fixed"] for e in record["affected"][0]["ranges"][0]["events"] if "fixed" in e)
    below = str(DebVersion(fixed)).rsplit("-", 1)[0] + "-0"  # same upstream, lower Debian revision
    assert DebVersion(below) < DebVersion(fixed)
    libssl = Package(type="deb", name="libssl3", version=below, source_name="openssl", source_version=below)
    [hit] = [f for f in _scan(store, libssl) if f.id == cve]
    assert (hit.fixed_version, hit.category, hit.evidence[0].package, hit.evidence[0].version_field) == (
        fixed, "OS", "openssl", "source_version")
    assert record["id"] in hit.aliases
    at_fix = Package(type="deb", name="libssl3", version=fixed, source_name="openssl", source_version=fixed)
    assert cve not in _ids(_scan(store, at_fix))
    # The same package on Debian 11 has no data at all: nothing matches, and the scan says so.
    image = Sbom(artifact=ImageMetadata(name="t", source="dir", layers=()), distro=Distro("debian", "11"),
                 packages=(libssl,))
    result = match_sbom(image, store)
    assert result.findings == () and "no advisory data for ecosystem Debian:11" in result.notes[0].reason


def test_ubuntu_cve_record_and_notice_fold_into_one_finding(store: SqliteVulnStore) -> None:
    curl = Package(type="deb", name="libcurl4", version="7.81.0-1ubuntu1.13", source_name="curl",
                   source_version="7.81.0-1ubuntu1.13")
    result = match_sbom(Sbom(artifact=ImageMetadata(name="t", source="dir", layers=()),
                             distro=Distro("ubuntu", "22.04"), packages=(curl,)), store)
    [hit] = [f for f in result.findings if f.id == "CVE-2023-38545"]
    assert {"UBUNTU-CVE-2023-38545", "USN-6429-1"} <= set(hit.aliases)
    assert hit.fixed_version == "7.81.0-1ubuntu1.14" and hit.severity.source == "cvss_v3"
    assert "osv 3551" in result.db_summary
    patched = Package(type="deb", name="libcurl4", version="7.81.0-1ubuntu1.14", source_name="curl",
                      source_version="7.81.0-1ubuntu1.14")
    assert "CVE-2023-38545" not in _ids(_scan(store, patched, distro=Distro("ubuntu", "22.04")))


# --- the independent check ------------------------------------------------------------------------

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _semver_key(version: str) -> tuple[Any, ...]:
    match = _SEMVER.match(version.removeprefix("v"))
    if not match:
        raise ValueError(version)
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())
    idents = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, idents)


def _semver_cmp(a: str, b: str) -> int:
    ka, kb = _semver_key(a), _semver_key(b)
    return (ka > kb) - (ka < kb)


def _pep440_cmp(a: str, b: str) -> int:
    try:
        va, vb = PyVersion(a), PyVersion(b)
    except InvalidVersion as exc:
        raise ValueError(str(exc)) from exc
    return (va > vb) - (va < vb)


def _deb_cmp(a: str, b: str) -> int:
    va, vb = DebVersion(a), DebVersion(b)
    return (va > vb) - (va < vb)


ORACLES: dict[str, Callable[[str, str], int]] = {"PyPI": _pep440_cmp, "npm": _semver_cmp, "Go": _semver_cmp,
                                                 "Debian:12": _deb_cmp}


def _event_order(compare: Callable[[str, str], int]) -> Callable[[tuple[str, str]], Any]:
    """Sort key for (kind, version) events: ``"0"`` first, then by ``compare``."""
    def cmp(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == "0" or b[1] == "0":
            return (b[1] == "0") - (a[1] == "0")
        return compare(a[1], b[1])
    return cmp_to_key(cmp)


def _oracle_affected(cmp: Callable[[str, str], int], version: str, entry: dict[str, Any]) -> bool | None:
    """The OSV pseudocode, verbatim; None when the record cannot be evaluated (a bad version)."""
    listed = False
    for item in entry.get("versions", []):
        try:
            listed = listed or item == version or cmp(version, item) == 0
        except ValueError:
            continue
    try:
        for rng in entry.get("ranges", []):
            if rng["type"] not in ("ECOSYSTEM", "SEMVER"):
                continue
            compare = _semver_cmp if rng["type"] == "SEMVER" else cmp
            events = [next(iter(e.items())) for e in rng["events"]]
            limits = [v for k, v in events if k == "limit"]
            if limits and not any("*" in v or compare(version, v) < 0 for v in limits):
                continue

            vulnerable = False
            for kind, value in sorted((e for e in events if e[0] != "limit"), key=_event_order(compare)):
                if kind == "introduced" and (value == "0" or compare(version, value) >= 0):
                    vulnerable = True
                elif kind == "fixed" and compare(version, value) >= 0:  # noqa: SIM114 (kept as the spec writes it)
                    vulnerable = False
                elif kind == "last_affected" and compare(version, value) > 0:
                    vulnerable = False
            if vulnerable:
                return True
    except ValueError:
        return True if listed else None
    return listed


def _norm(ecosystem: str, name: str) -> str:
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.lower() if ecosystem == "npm" else name


@functools.cache
def _records(folder: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(p.read_text()) for p in sorted((FEEDS / folder).glob("*.json")))


def _oracle(ecosystem: str, name: str, version: str, folder: str) -> set[str]:
    cmp = ORACLES[ecosystem]
    out: set[str] = set()
    for record in _records(folder):
        if record.get("withdrawn"):
            continue
        for entry in record["affected"]:
            pkg = entry["package"]
            if pkg["ecosystem"] == ecosystem and _norm(ecosystem, pkg["name"]) == _norm(ecosystem, name) \
                    and _oracle_affected(cmp, version, entry):
                out.add(record["id"])
    return out


def _bookworm_sources() -> list[tuple[str, str]]:
    meta = json.loads((FEEDS / "_meta" / "debian-bookworm-packages.json").read_text())
    fixes: dict[str, set[str]] = {}
    for path in (FEEDS / "debian").glob("*.json"):
        for entry in json.loads(path.read_text())["affected"]:
            for rng in entry["ranges"]:
                fixes.setdefault(entry["package"]["name"], set()).update(
                    e["fixed"] for e in rng["events"] if "fixed" in e)
    out: set[tuple[str, str]] = set()
    for info in meta["binaries"].values():
        source = info["source"]
        out.add((source, info["source_version"]))
        # Every fix version of the source is a boundary worth checking, as is just below the oldest.
        out.update((source, fixed) for fixed in fixes.get(source, ()))
    return sorted(out)


LANGUAGE_CASES = [
    ("PyPI", "pypi", "pypi", "", name, version) for name, versions in {
        "django": ["1.11.0", "2.2.0", "3.2.0", "3.2.4", "4.0", "4.2.1", "5.0.1"],
        "Pillow": ["6.2.0", "8.1.0", "9.0.0", "10.0.0"], "urllib3": ["1.24.1", "1.26.4", "2.0.0"],
        "requests": ["2.19.1", "2.31.0"], "Jinja2": ["2.10"], "PyYAML": ["5.3"], "flask": ["0.12"],
        "werkzeug": ["2.2.2"], "cryptography": ["3.2"], "numpy": ["1.16.0"]}.items() for version in versions
] + [
    ("npm", "npm", "npm", "", name, version) for name, versions in {
        "lodash": ["4.17.4", "4.17.20", "4.17.21"], "jquery": ["1.8.3", "2.2.4", "3.4.0", "3.5.0"],
        "minimist": ["0.0.8", "1.2.0", "1.2.6"], "node-fetch": ["2.6.0", "3.1.1"], "ws": ["1.1.0", "6.1.0"],
        "axios": ["0.21.0", "1.6.0"], "express": ["4.4.0", "5.0.0-alpha.2"], "handlebars": ["4.5.0"]}.items()
    for version in versions
] + [
    ("Go", "go", "golang", ns, name, version) for ns, name, versions in [
        ("", "stdlib", ["v1.19.8", "v1.20.1", "v1.21.0", "v1.22.5", "v1.11.0-rc.1"]),
        ("golang.org/x", "net", ["v0.0.0-20210226172049-e18ecbb05110", "v0.7.0", "v0.17.0"]),
        ("golang.org/x", "crypto", ["v0.0.0-20200622213623-75b288015ac9", "v0.17.0"]),
        ("golang.org/x", "text", ["v0.3.0", "v0.3.8"])]
    for version in versions
]


@pytest.mark.parametrize(("ecosystem", "folder", "ptype", "namespace", "name", "version"), LANGUAGE_CASES,
                         ids=[f"{c[0]}-{c[4]}-{c[5]}" for c in LANGUAGE_CASES])
def test_matcher_agrees_with_plain_loop_language(store: SqliteVulnStore, ecosystem: str, folder: str, ptype: str,
                                                  namespace: str, name: str, version: str) -> None:
    package = Package(type=ptype, namespace=namespace, name=name, version=version)
    got = {e.record for f in _scan(store, package, distro=None) for e in f.evidence}
    full = f"{namespace}/{name}" if namespace else name
    assert got == _oracle(ecosystem, full, version, folder)


def test_matcher_agrees_with_plain_loop_bookworm(store: SqliteVulnStore) -> None:
    checked = 0
    for source, version in _bookworm_sources():
        package = Package(type="deb", name=source, version=version, source_name=source, source_version=version)
        got = {e.record for f in _scan(store, package) for e in f.evidence}
        assert got == _oracle("Debian:12", source, version, "debian"), (source, version)
        checked += 1
    assert checked > 100


def test_import_scores_are_what_scoring_the_vector_gives(store: SqliteVulnStore) -> None:
    """The matcher takes a CVSS score the importer stored instead of scoring the vector again: on every
    vector statement of the real feeds both roads give the same severity."""
    from dataclasses import replace

    from containerguard.matchers.severity import normalize

    statements = {s for eco in store.ecosystems() for row in store._query(
        "SELECT DISTINCT i.name FROM affected_index i WHERE i.ecosystem = ?", (eco,))
        for a in store.lookup(eco, str(row[0])) for s in (*a.severity, *(x for f in a.affected for x in f.severity))
        if s.vector}
    scored = [s for s in statements if s.score is not None]
    assert len(scored) >= 20 and {s.source for s in scored} >= {"cvss_v3"}
    for s in statements:
        assert normalize(s) == normalize(replace(s, score=None)), s


@pytest.mark.parametrize(("osv_type", "vector"), [
    ("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
    ("CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C"),  # 10.0: HIGH in v2 bands, CRITICAL as the importer bands it
    ("CVSS_V3", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("CVSS_V3", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N"),  # 0.0
    ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
    ("CVSS_V3", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),  # mislabelled: not scored
])
def test_import_score_and_vector_score_agree(osv_type: str, vector: str) -> None:
    from dataclasses import replace

    from containerguard.matchers.severity import normalize
    from containerguard.vulndb.severity import cvss_severity

    stored = cvss_severity(osv_type, vector)
    assert stored is not None
    assert normalize(stored) == normalize(replace(stored, score=None))
