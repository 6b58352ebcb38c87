"""Tests for the cargo-auditable collector (.dep-v0 ELF section)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.rust import CargoAuditableCollector, decode_audit_data
from containerguard.errors import CollectError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cargo-auditable"


def _collect(content: bytes) -> list[tuple[str, str, str]]:
    info = FileInfo("usr/local/bin/hello", len(content), 0o755, "sha256:l")
    result = CargoAuditableCollector().collect(info, content)
    assert all(p.type == "cargo" and p.locations[0].path == "/usr/local/bin/hello" for p in result.packages)
    return [(p.name, p.version, p.purl) for p in result.packages]


@pytest.mark.parametrize(("path", "size", "mode", "wanted"), [
    ("usr/local/bin/hello", 500_000, 0o755, True),
    ("usr/local/bin/hello", 500_000, 0o644, False),
    ("usr/local/bin/hello", 100, 0o755, False),
    ("usr/local/bin/run.sh", 500_000, 0o755, False),
])
def test_required(path: str, size: int, mode: int, wanted: bool) -> None:
    assert CargoAuditableCollector().required(FileInfo(path, size, mode)) is wanted


def test_auditable_binary() -> None:
    # Build-time crates (cc) are not in the binary; the root crate is the binary itself.
    assert _collect((FIXTURES / "auditable").read_bytes()) == [
        ("hello", "0.1.0", "pkg:cargo/hello@0.1.0"),
        ("smallvec", "1.6.0", "pkg:cargo/smallvec@1.6.0"),
        ("time", "0.1.43", "pkg:cargo/time@0.1.43"),
    ]


def test_plain_elf_and_non_elf_give_nothing() -> None:
    assert _collect((FIXTURES / "plain").read_bytes()) == []
    assert _collect(b"#!/bin/sh\n" * 1000) == []


def test_bad_section_raises() -> None:
    with pytest.raises(CollectError, match="zlib"):
        _collect((FIXTURES / "bad-section").read_bytes())


@pytest.mark.parametrize("cut", [-100])
def test_truncated_elf_raises_collect_error(cut: int) -> None:
    content = (FIXTURES / "auditable").read_bytes()[:cut]
    assert b".dep-v0" in content
    with pytest.raises(CollectError, match="cannot read ELF sections"):
        _collect(content)


@pytest.mark.parametrize("cut", [20, 100, 4000])
def test_truncated_elf_without_the_section_name_is_not_rust(cut: int) -> None:
    # The cheap pre-check finds no ".dep-v0" name, so the file is not parsed at all.
    assert _collect((FIXTURES / "auditable").read_bytes()[:cut]) == []


@pytest.mark.parametrize(("raw", "message"), [
    (zlib.compress(b"[1, 2]"), "no packages"),
    (zlib.compress(b"{not json"), "not JSON"),
    (zlib.compress(b" " * (9 * 1024 * 1024)), "inflates past"),
])
def test_decode_errors(raw: bytes, message: str) -> None:
    with pytest.raises(CollectError, match=message):
        decode_audit_data(raw)


def test_decode_skips_junk_entries() -> None:
    raw = zlib.compress(json.dumps({"packages": [1, {"name": "a"}, {"name": "b", "version": "1"}]}).encode())
    assert decode_audit_data(raw) == [{"name": "a"}, {"name": "b", "version": "1"}]
