"""apk collector: a real Alpine installed database and edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.collectors.apk import ApkCollector, split_licenses
from containerguard.collectors.base import FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Location, Package

FIXTURES = Path(__file__).parents[2] / "fixtures" / "apk"


def _collect(data: bytes) -> tuple[Package, ...]:
    info = FileInfo(path="lib/apk/db/installed", size=len(data), mode=0o100644, layer_digest="sha256:l1")
    return ApkCollector().collect(info, data).packages


def test_real_installed_db() -> None:
    pkgs = _collect((FIXTURES / "installed").read_bytes())
    got = [(p.name, p.version, p.arch, p.source_name, p.source_version, p.licenses) for p in pkgs]
    assert got == [
        ("alpine-baselayout-data", "3.4.3-r1", "aarch64", "alpine-baselayout", "3.4.3-r1", ("GPL-2.0-only",)),
        ("libssl3", "3.1.2-r0", "aarch64", "openssl", "3.1.2-r0", ("Apache-2.0",)),
        ("musl", "1.2.4-r1", "aarch64", "musl", "1.2.4-r1", ("MIT",)),
        ("musl-utils", "1.2.4-r1", "aarch64", "musl", "1.2.4-r1",
         ("MIT AND BSD-2-Clause AND GPL-2.0-or-later",)),
        ("ssl_client", "1.36.1-r2", "aarch64", "busybox", "1.36.1-r2", ("GPL-2.0-only",)),
        ("zlib", "1.2.13-r1", "aarch64", "zlib", "1.2.13-r1", ("Zlib",)),
    ]
    for p in pkgs:
        assert p.type == "apk" and p.purl == "" and p.epoch is None
        assert p.locations == (Location("/lib/apk/db/installed", "sha256:l1"),)


@pytest.mark.parametrize(("path", "wanted"), [
    ("lib/apk/db/installed", True),
    ("lib/apk/db/installed.old", False),
    ("usr/lib/apk/db/installed", False),
    ("lib/apk/db/scripts.tar", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert ApkCollector().required(FileInfo(path=path, size=1, mode=0o100644)) is wanted


@pytest.mark.parametrize(("content", "expected"), [
    (b"", []),
    (b"P:a\nV:1-r0", [("a", "1-r0", "a")]),  # no trailing newline, no origin
    (b"P:a\n\n\nV:1-r0\n", []),  # fields split across records: nothing invented
    (b"P:x\nV:2-r1\no:y\nF:usr\nR:p:q\n\r\nP:z\nV:3\n", [("x", "2-r1", "y"), ("z", "3", "z")]),
])
def test_edge_cases(content: bytes, expected: list[tuple[str, str, str]]) -> None:
    assert [(p.name, p.version, p.source_name) for p in _collect(content)] == expected


def test_garbage_raises() -> None:
    with pytest.raises(CollectError):
        _collect(b"\x00\x01binary junk\xff\n")


@pytest.mark.parametrize(("value", "expected"), [
    ("", ()),
    ("MIT", ("MIT",)),
    ("GPL2 MIT", ("GPL2", "MIT")),
    ("MIT OR Apache-2.0", ("MIT OR Apache-2.0",)),
    ("(MIT AND BSD-3-Clause)", ("(MIT AND BSD-3-Clause)",)),
])
def test_split_licenses(value: str, expected: tuple[str, ...]) -> None:
    assert split_licenses(value) == expected
