"""dpkg collector: real status paragraphs, distroless status.d, and dpkg-query as an oracle."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.dpkg import DpkgCollector
from containerguard.errors import CollectError
from containerguard.models.sbom import Location, Package

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dpkg"


def _collect(path: str, data: bytes) -> tuple[Package, ...]:
    info = FileInfo(path=path, size=len(data), mode=0o100644, layer_digest="sha256:l1")
    return DpkgCollector().collect(info, data).packages


def test_status_file_installed_only() -> None:
    pkgs = _collect("var/lib/dpkg/status", (FIXTURES / "status").read_bytes())
    got = [(p.name, p.version, p.arch, p.source_name, p.source_version) for p in pkgs]
    assert got == [
        ("base-files", "12.4+deb12u11", "amd64", "base-files", "12.4+deb12u11"),
        ("bash", "5.2.15-2+b8", "amd64", "bash", "5.2.15-2"),
        ("bsdutils", "1:2.38.1-5+deb12u3", "amd64", "util-linux", "2.38.1-5+deb12u3"),
        ("libc6", "2.36-9+deb12u14", "amd64", "glibc", "2.36-9+deb12u14"),
        ("zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1"),
        ("libssl3", "3.0.19-1~deb12u2", "amd64", "openssl", "3.0.19-1~deb12u2"),
        ("tzdata", "2025b-0+deb12u2", "all", "tzdata", "2025b-0+deb12u2"),
        # "hold ok installed" is installed; bc (config-files) and dash (half-installed) are not.
        ("mawk", "1.3.4.20200120-3.1", "amd64", "mawk", "1.3.4.20200120-3.1"),
    ]
    for p in pkgs:
        assert p.type == "deb" and p.purl == "" and p.epoch is None
        assert p.locations == (Location("/var/lib/dpkg/status", "sha256:l1"),)


def test_distroless_status_d_has_no_status_field() -> None:
    pkgs = _collect("var/lib/dpkg/status.d/libc6", (FIXTURES / "status.d" / "libc6").read_bytes())
    assert [(p.name, p.version, p.source_name, p.arch) for p in pkgs] == [
        ("libc6", "2.36-9+deb12u14", "glibc", "amd64")]
    assert pkgs[0].locations[0].path == "/var/lib/dpkg/status.d/libc6"
    base = _collect("var/lib/dpkg/status.d/base-files", (FIXTURES / "status.d" / "base-files").read_bytes())
    assert [(p.name, p.source_name) for p in base] == [("base-files", "base-files")]


@pytest.mark.parametrize(("path", "wanted"), [
    ("var/lib/dpkg/status", True),
    ("var/lib/dpkg/status.d/libc6", True),
    ("var/lib/dpkg/status.d/base-files", True),
    ("var/lib/dpkg/status.d/libc6.md5sums", False),
    ("var/lib/dpkg/status.d/sub/dir", False),
    ("var/lib/dpkg/status-old", False),
    ("var/lib/dpkg/available", False),
    ("usr/var/lib/dpkg/status", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert DpkgCollector().required(FileInfo(path=path, size=1, mode=0o100644)) is wanted


@pytest.mark.parametrize(("content", "names"), [
    (b"", []),
    (b"Package: a\nStatus: install ok installed\n", []),  # no Version: dropped, not invented
    (b"Package: a\nVersion: 1\nStatus: install ok installed\n\n\n \nPackage: b\nVersion: 2\n"
     b"Status: install ok triggers-pending\nSource: b-src\n", ["a", "b"]),
    (b"Package: a\nVersion: 1\nStatus: garbage\n", []),
    (b"Package: \xff\xfe\nVersion: 1\nStatus: install ok installed\n", ["\ufffd\ufffd"]),
])
def test_edge_cases(content: bytes, names: list[str]) -> None:
    assert [p.name for p in _collect("var/lib/dpkg/status", content)] == names


def test_garbage_raises_collect_error() -> None:
    with pytest.raises(CollectError):
        _collect("var/lib/dpkg/status", b"\x00\x01\x02 not a status file\n")


_REAL_STATUS = Path("/var/lib/dpkg/status")


@pytest.mark.skipif(not (_REAL_STATUS.exists() and shutil.which("dpkg-query")), reason="needs dpkg")
def test_matches_dpkg_query_on_this_machine() -> None:
    fmt = ("${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}"
           "\\t${source:Package}\\t${source:Version}\\n")
    out = subprocess.run(["dpkg-query", "-W", "-f", fmt], check=True, capture_output=True, text=True).stdout
    expected = sorted(tuple(line.split("\t")[1:]) for line in out.splitlines()
                      # second letter: installed, triggers-pending, triggers-awaited
                      if line[1] in "itW")
    pkgs = _collect("var/lib/dpkg/status", _REAL_STATUS.read_bytes())
    got = sorted((p.name, p.version, p.arch, p.source_name, p.source_version) for p in pkgs)
    assert got == expected
    assert len(got) > 10
