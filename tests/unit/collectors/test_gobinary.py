"""Tests for the gobinary collector (Go build info, inline and pointer formats)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.go_binary import (
    MAGIC,
    GoBinaryCollector,
    parse_modinfo,
    read_build_info,
    stdlib_version,
)
from containerguard.errors import CollectError
from needs import missing

FIXTURES = Path(__file__).parents[2] / "fixtures" / "gobinary"


def _collect(content: bytes, path: str = "usr/local/bin/app") -> list[tuple[str, str, str, str]]:
    info = FileInfo(path, len(content), 0o755, "sha256:l")
    result = GoBinaryCollector().collect(info, content)
    assert all(p.type == "golang" and p.locations[0].path == "/" + path for p in result.packages)
    return [(p.namespace, p.name, p.version, p.purl) for p in result.packages]


@pytest.mark.parametrize(("path", "size", "mode", "wanted"), [
    ("usr/local/bin/app", 2_000_000, 0o755, True),
    ("usr/lib/libgo.so", 2_000_000, 0o755, True),
    ("usr/local/bin/app", 2_000_000, 0o644, False),
    ("usr/local/bin/tiny", 1000, 0o755, False),
    ("usr/bin/script.sh", 2_000_000, 0o755, False),
    ("opt/tool.py", 2_000_000, 0o755, False),
])
def test_required(path: str, size: int, mode: int, wanted: bool) -> None:
    assert GoBinaryCollector().required(FileInfo(path, size, mode)) is wanted


def test_go119_inline_build_info() -> None:
    packages = _collect((FIXTURES / "hello").read_bytes())
    assert packages == [
        ("example.com", "hello", "(devel)", "pkg:golang/example.com/hello@%28devel%29"),
        # Local directory replacement: the module is known, its release is not.
        ("example.com", "greet", "", "pkg:golang/example.com/greet"),
        # Versioned replacement: the replacement module is what was compiled in.
        ("example.com", "quote", "v0.0.0-00010101000000-000000000000",
         "pkg:golang/example.com/quote@v0.0.0-00010101000000-000000000000"),
        ("", "stdlib", "v1.19.8", "pkg:golang/stdlib@v1.19.8"),
    ]


def test_pre_118_pointer_build_info() -> None:
    packages = _collect((FIXTURES / "oldformat").read_bytes())
    assert packages == [
        ("example.com", "old", "(devel)", "pkg:golang/example.com/old@%28devel%29"),
        ("golang.org/x", "net", "v0.0.0-20210226172049-e18ecbb05110",
         "pkg:golang/golang.org/x/net@v0.0.0-20210226172049-e18ecbb05110"),
        ("github.com/pkg", "errors", "v0.9.1", "pkg:golang/github.com/pkg/errors@v0.9.1"),
        ("", "stdlib", "v1.16.15", "pkg:golang/stdlib@v1.16.15"),
    ]


@pytest.mark.skipif(shutil.which("go") is None, reason="no Go toolchain")
def test_agrees_with_go_version_m() -> None:
    out = subprocess.run(["go", "version", "-m", str(FIXTURES / "hello")], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    deps = [line.split("\t")[2:4] for line in out.splitlines() if line.startswith("\tdep\t")]
    assert deps == [["example.com/greet", "v1.0.0"], ["golang.org/x/text", "v0.3.6"]]
    assert out.splitlines()[0].endswith("go1.19.8")
    version, _ = read_build_info((FIXTURES / "hello").read_bytes()) or ("", "")
    assert version == "go1.19.8"


@pytest.mark.parametrize(("go", "expected"), [
    ("go1.19.8", "v1.19.8"), ("go1.20", "v1.20.0"), ("go1.21.0", "v1.21.0"),
    ("go1.21rc2", "v1.21.0-rc.2"), ("go1.18beta1", "v1.18.0-beta.1"),
    ("go1.19.8 X:boringcrypto", "v1.19.8"), ("devel go1.22-abcdef", None), ("garbage", None),
])
def test_stdlib_version(go: str, expected: str | None) -> None:
    assert stdlib_version(go) == expected


def test_stdlib_version_matches_osv_go_ranges() -> None:
    """OSV's Go ranges are semver without the "v" (e.g. fixed "1.16.1"): stripping it must match."""
    import json
    feed = Path(__file__).parents[4] / "shared" / "feeds" / "go" / "GO-2021-0067.json"
    if not feed.exists():
        missing("shared Go feed not present")
    events = json.loads(feed.read_text())["affected"][0]["ranges"][0]["events"]
    fixed = next(e["fixed"] for e in events if "fixed" in e)
    assert (stdlib_version(f"go{fixed}") or "").removeprefix("v") == fixed


def test_modinfo_replacements_and_noise() -> None:
    text = ("path\tex.com/m/cmd\nmod\tex.com/m\tv1.2.3\th1:x=\n"
            "dep\ta.com/x\tv1.0.0\th1:a=\n=>\tb.com/y\tv2.0.0\th1:b=\n"
            "dep\tc.com/z\tv0.1.0\n=>\t/abs/dir\t\n"
            "dep\tlonely\n=>\n=>\tignored\tv9\n"
            "build\t-ldflags=-s\n\n")
    main, deps = parse_modinfo(text)
    assert main == ("ex.com/m", "v1.2.3")
    assert deps == [("b.com/y", "v2.0.0"), ("c.com/z", ""), ("lonely", "")]


def test_non_binaries_and_plain_elf_give_nothing() -> None:
    assert _collect(b"#!/bin/sh\necho hi\n" * 100) == []
    plain = (Path(__file__).parents[2] / "fixtures" / "cargo-auditable" / "plain").read_bytes()
    assert _collect(plain) == []


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_binary_does_not_crash(cut: float) -> None:
    content = (FIXTURES / "hello").read_bytes()
    pos = content.find(MAGIC)
    truncated = content[:pos + int(32 * cut)] if cut < 0.9 else content[:pos + 40]
    with pytest.raises(CollectError):
        _collect(truncated)


@pytest.mark.parametrize("blob", [
    # inline flag, varint length far past the end
    b"\x7fELF" + b"\x00" * 12 + MAGIC + b"\x08\x02" + b"\x00" * 16 + b"\xff\xff\xff\xff\x0f",
    # inline flag, endless varint
    b"\x7fELF" + b"\x00" * 12 + MAGIC + b"\x08\x02" + b"\x00" * 16 + b"\xff" * 20,
    # pointer format in a garbage ELF
    b"\x7fELF" + b"\x00" * 12 + MAGIC + b"\x08\x00" + b"\x10" * 16 + b"\x00" * 64,
    # inline, but the "version" is not a Go version
    b"\x7fELF" + b"\x00" * 12 + MAGIC + b"\x08\x02" + b"\x00" * 16 + b"\x03abc\x00",
])
def test_garbage_build_info_raises(blob: bytes) -> None:
    with pytest.raises(CollectError):
        _collect(blob)


def test_unaligned_magic_is_ignored() -> None:
    blob = b"\x7fELF" + b"\x00" * 13 + MAGIC + b"\x08\x02" + b"\x00" * 64
    assert _collect(blob) == []


def test_magic_as_string_constant_before_real_blob() -> None:
    """Programs importing debug/buildinfo carry the magic in rodata too; the real blob still wins."""
    real = (FIXTURES / "hello").read_bytes()
    decoy = MAGIC + b"\x08\x00" + b"\x00" * 16  # aligned, pointer format, unresolvable pointers
    pad = b"\x00" * (-(len(decoy) + 16) % 16)
    patched = real[:16] + decoy + pad + real[16 + len(decoy) + len(pad):]
    assert len(patched) == len(real)
    assert ("", "stdlib", "v1.19.8", "pkg:golang/stdlib@v1.19.8") in _collect(patched)
