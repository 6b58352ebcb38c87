"""Vulnerability scans of the real test images, from the registry, against the real advisory fixtures.

Known CVEs must be reported with their fixed versions, versions at or past a fix must not be, and an
independent check (a plain loop over the OSV JSON with the oracle comparator) must agree with the
matcher on every PyPI package of the image.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from images import BuiltImage, ImageFactory
from packaging.version import Version

from containerguard.vulndb.build import FeedInput, import_feeds

FEEDS = Path(__file__).resolve().parents[3] / "shared" / "feeds"
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/feeds not present")]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("scanhome")
    import_feeds([FeedInput(FEEDS)], home / "db" / "vulns.sqlite")
    return home


def scan(image: BuiltImage, home: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    env = {**os.environ, "CONTAINERGUARD_HOME": str(home)}
    res = subprocess.run([sys.executable, "-m", "containerguard", "scan", "image", "-q", "--insecure", "-f", "json",
                          image.ref, *extra], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode in (0, 1), res.stderr
    return res.returncode, json.loads(res.stdout)


def found(report: dict) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    return {(f["package"]["name"], f["id"]): f for f in report["findings"]}


def test_python_image_reports_known_cves(factory: ImageFactory, home: Path) -> None:
    image = factory.get("bookworm-py")
    _, report = scan(image, home)
    hits = found(report)
    assert report["health"] == "Unhealthy"
    assert ("django", "CVE-2021-33203") in hits and hits[("django", "CVE-2021-33203")]["fixed_version"] == "3.2.4"
    assert ("requests", "CVE-2018-18074") in hits
    assert hits[("requests", "CVE-2018-18074")]["fixed_version"] == "2.20.0"
    # Independent check: a plain loop over the PyPI OSV records with packaging as the oracle.
    installed = {(name.lower().replace("_", "-"), version) for name, version in image.truth.packages["pypi"]}
    expected: set[tuple[str, str]] = set()
    for path in (FEEDS / "pypi").glob("*.json"):
        record = json.loads(path.read_text())
        ids = [record["id"], *record.get("aliases", [])]
        for affected in record.get("affected", []):
            name = affected["package"]["name"].lower().replace("_", "-")
            for pkg, version in installed:
                if pkg != name:
                    continue
                if version in affected.get("versions", []) or any(
                        _in_range(Version(version), r) for r in affected.get("ranges", []) if r["type"] == "ECOSYSTEM"):
                    cve = sorted(i for i in ids if i.startswith("CVE-"))
                    expected.add((pkg, cve[0] if cve else record["id"]))
    got = {(n, i) for (n, i) in hits if n in {p for p, _ in installed}}
    assert len(expected) > 10
    assert got == expected


def _in_range(version: Version, rng: dict) -> bool:  # type: ignore[type-arg]
    affected = False
    for event in rng["events"]:
        if "introduced" in event and version >= Version(event["introduced"]):
            affected = True
        if "fixed" in event and version >= Version(event["fixed"]):
            affected = False
        if "last_affected" in event and version > Version(event["last_affected"]):
            affected = False
    return affected


def test_npm_and_go_images(factory: ImageFactory, home: Path) -> None:
    _, npm = scan(factory.get("bookworm-npm"), home)
    assert ("lodash", "CVE-2019-10744") in found(npm)
    assert found(npm)[("lodash", "CVE-2019-10744")]["severity"]["level"] == "CRITICAL"
    _, go = scan(factory.get("bookworm-go"), home)
    stdlib = [f for (n, _), f in found(go).items() if n == "stdlib"]
    assert stdlib, "a Go 1.19 binary must match Go stdlib advisories"
    assert all(f["installed_version"].startswith("v1.19") for f in stdlib)


def test_gates_and_filters(factory: ImageFactory, home: Path) -> None:
    image = factory.get("bookworm-npm")
    code, report = scan(image, home, "--severity", "CRITICAL", "--exit-code", "1")
    assert code == 1 and {f["severity"]["level"] for f in report["findings"]} == {"CRITICAL"}
    code, _ = scan(factory.get("bookworm"), home, "--severity", "CRITICAL", "--ignore-unfixed", "--exit-code", "1")
    assert code in (0, 1)
