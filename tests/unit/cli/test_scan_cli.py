"""``scan image`` / ``scan sbom`` end to end: real OSV records in a real database, policy options,
every output format, the exit-code gate, and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from containerguard.config import load_settings
from containerguard.models.artifact import ImageMetadata
from containerguard.models.sbom import Location, Package, Sbom
from containerguard.sbom.formats.base import get_format
from containerguard.vulndb.build import FeedInput, import_feeds
from containerguard.vulndb.store import db_path

ROOT = Path(__file__).parents[3]
FEEDS = ROOT.parent / "shared" / "feeds"
RECORDS = (FEEDS / "npm" / "GHSA-jf85-cpcp-j695.json", FEEDS / "pypi" / "PYSEC-2021-98.json")
SARIF_SCHEMA = ROOT / "src/containerguard/report/schemas/sarif-schema-2.1.0.json"

PACKAGES = (
    Package("npm", "lodash", "4.17.4", locations=(Location("app/node_modules/lodash/package.json"),),
            purl="pkg:npm/lodash@4.17.4"),
    Package("npm", "lodash", "4.17.21", locations=(Location("other/node_modules/lodash/package.json"),),
            purl="pkg:npm/lodash@4.17.21"),  # past the fix: no finding
    Package("pypi", "Django", "3.2.0", locations=(Location("usr/lib/python3/dist-packages/x/METADATA"),),
            purl="pkg:pypi/django@3.2.0"),
)

pytestmark = pytest.mark.skipif(not all(p.is_file() for p in RECORDS), reason="../shared/feeds not present")


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "containerguard", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120, cwd=cwd)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    for record in RECORDS:
        shutil.copy(record, feeds)
    path = db_path(load_settings())
    path.parent.mkdir(parents=True, exist_ok=True)
    import_feeds([FeedInput(feeds)], path)
    return path


@pytest.fixture
def sbom_file(tmp_path: Path) -> Path:
    sbom = Sbom(ImageMetadata(name="app:1", source="dir", layers=()), None, PACKAGES)
    path = tmp_path / "app.cdx.json"
    path.write_text(get_format("cyclonedx").write(sbom))
    return path


def one_line_error(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    return res.stderr


def test_no_database_is_one_line_naming_db_import(sbom_file: Path) -> None:
    err = one_line_error(cli("scan", "sbom", str(sbom_file)))
    assert "db import" in err and "db update" in err


def test_table_and_exit_code(database: Path, sbom_file: Path) -> None:
    res = cli("scan", "sbom", str(sbom_file))
    assert res.returncode == 0, res.stderr
    assert "CVE-2019-10744" in res.stdout and "CVE-2021-33203" in res.stdout
    assert "Health: Unhealthy   Total: 2 (CRITICAL: 1" in res.stdout
    assert "4.17.21 " not in res.stdout.split("Health:")[1]  # the fixed copy is not reported
    assert cli("scan", "sbom", str(sbom_file), "--exit-code", "3").returncode == 3
    # Only CRITICAL, then the CRITICAL one ignored by the default ignore file in the current directory.
    res = cli("scan", "sbom", str(sbom_file), "--severity", "CRITICAL", "--exit-code", "3")
    assert res.returncode == 3 and "Total: 1" in res.stdout
    (sbom_file.parent / ".containerguardignore").write_text("GHSA-jf85-cpcp-j695 pkg:npm/lodash\n")
    res = cli("scan", "sbom", str(sbom_file), "--severity", "critical", "--exit-code", "3", cwd=sbom_file.parent)
    assert res.returncode == 0, res.stderr
    assert "Health: Healthy" in res.stdout and "ignorefile:" in res.stdout


def test_json_sarif_cyclonedx_outputs(database: Path, sbom_file: Path, tmp_path: Path) -> None:
    vex = tmp_path / "vex.json"
    vex.write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "t", "timestamp": "2026-01-01T00:00:00Z",
        "statements": [{"vulnerability": {"name": "CVE-2021-33203"}, "products": [{"@id": "pkg:pypi/django"}],
                        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}))
    out = tmp_path / "scan.json"
    res = cli("scan", "sbom", str(sbom_file), "-f", "json", "-o", str(out), "--vex", str(vex), "--ignore-unfixed")
    assert res.returncode == 0 and res.stdout == "", res.stderr
    doc = json.loads(out.read_text())
    assert doc["schema"] == "containerguard/scan/v1" and doc["health"] == "Unhealthy"
    assert [(f["id"], f["package"]["version"], f["fixed_version"]) for f in doc["findings"]] == [
        ("CVE-2019-10744", "4.17.4", "4.17.12")]
    assert doc["suppressed"][0]["suppressed_by"].startswith("vex:not_affected (vulnerable_code_not_in_execute_path)")
    assert "CVE-2021-33203" in [f["id"] for f in doc["suppressed"]]

    res = cli("scan", "sbom", str(sbom_file), "-f", "sarif")
    assert res.returncode == 0, res.stderr
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert list(jsonschema.Draft4Validator(schema).iter_errors(json.loads(res.stdout))) == []

    res = cli("scan", "sbom", str(sbom_file), "-f", "cyclonedx", "--vex", str(vex))
    assert res.returncode == 0, res.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(res.stdout) is None
    vulns = {v["id"]: v for v in json.loads(res.stdout)["vulnerabilities"]}
    assert vulns["CVE-2019-10744"]["affects"][0]["ref"] == "pkg:npm/lodash@4.17.4"
    assert vulns["CVE-2021-33203"]["analysis"]["state"] == "not_affected"


def test_scan_image_dir(database: Path, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    meta = root / "usr/lib/python3/dist-packages/Django-3.2.0.dist-info/METADATA"
    meta.parent.mkdir(parents=True)
    meta.write_text("Metadata-Version: 2.1\nName: Django\nVersion: 3.2.0\n")
    res = cli("scan", "image", "-q", f"dir:{root}", "-f", "json", "--exit-code", "5")
    assert res.returncode == 5, res.stderr
    assert [f["id"] for f in json.loads(res.stdout)["findings"]] == ["CVE-2021-33203"]
    res = cli("scan", "image", "-q", f"dir:{root}", "-f", "spdx")  # the SBOM only
    assert res.returncode == 0 and json.loads(res.stdout)["spdxVersion"] == "SPDX-2.3"


@pytest.mark.parametrize("args", [
    ("--severity", "SEVERE"),
    ("--exit-code", "300"),
    ("-f", "spdx"),  # scan sbom writes reports only
    ("--ignorefile", "/definitely/not/here"),
    ("--vex", "/definitely/not/here.json"),
])
def test_bad_options_are_one_line(database: Path, sbom_file: Path, args: tuple[str, ...]) -> None:
    one_line_error(cli("scan", "sbom", str(sbom_file), *args))


def test_malformed_policy_files_are_one_line(database: Path, sbom_file: Path, tmp_path: Path) -> None:
    bad_vex = tmp_path / "bad.vex.json"
    bad_vex.write_text('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"status": "nope"}]}')
    assert "bad.vex.json: statement 1" in one_line_error(cli("scan", "sbom", str(sbom_file), "--vex", str(bad_vex)))
    bad_ignore = tmp_path / "ignore"
    bad_ignore.write_text("CVE-2019-10744 exp:someday\n")
    assert "ignore:1: bad expiry date" in one_line_error(
        cli("scan", "sbom", str(sbom_file), "--ignorefile", str(bad_ignore)))
