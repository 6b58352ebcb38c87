"""The inventory pipeline end to end on a ``dir:`` root filesystem, and the CLI around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from containerguard.pipeline.inventory import inventory
from containerguard.sbom.formats.base import read_document

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n' \
             'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
STATUS = """Package: bash
Status: install ok installed
Priority: required
Architecture: amd64
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell

Package: libgcc-s1
Status: deinstall ok config-files
Architecture: amd64
Source: gcc-12
Version: 12.2.0-14
Description: removed, only config files left

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
"""


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(STATUS)
    dist = root / "usr/lib/python3/dist-packages/Django-3.2.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: Django\nVersion: 3.2\nLicense: BSD-3-Clause\n")
    # A link pointing outside the root must never be followed.
    (root / "usr/lib/python3/dist-packages/evil.dist-info").symlink_to("/etc")
    return root


def test_dir_inventory(rootfs: Path) -> None:
    sbom = inventory(f"dir:{rootfs}")
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version_id) == ("debian", "12")
    got = {(p.type, p.name, p.version, p.source_name) for p in sbom.packages}
    assert got == {("deb", "bash", "5.2.15-2+b2", "bash"), ("deb", "libssl3", "3.0.11-1~deb12u2", "openssl"),
                   ("pypi", "django", "3.2", "")}


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "containerguard", *args], capture_output=True, text=True,
                          input=stdin, env=os.environ.copy(), timeout=120)


def test_cli_sbom_json_and_back(rootfs: Path, tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    res = run_cli("sbom", f"dir:{rootfs}", "-f", "json", "-o", str(out))
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    assert {p["name"] for p in doc["packages"]} == {"bash", "libssl3", "django"}
    assert read_document(doc) == inventory(f"dir:{rootfs}")


@pytest.mark.parametrize("args", [
    ("sbom", "dir:/definitely/not/here"),
    ("scan", "image", "dir:"),
    ("scan", "sbom", "/definitely/not/here.json"),
    ("sbom", "dir:/tmp", "-f", "nonsense"),
    ("scan", "image", "dir:/tmp", "--platform", "amd64"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    res = run_cli(*args)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0, res.stderr
    assert "Traceback" not in res.stderr


def test_cli_scan_sbom_rejects_non_sbom_json(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    res = run_cli("scan", "sbom", str(bad))
    assert res.returncode == 2 and "not a CycloneDX, SPDX" in res.stderr
