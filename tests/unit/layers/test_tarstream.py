"""The streaming tar reader agrees with tarfile on every format container layers use, and refuses junk."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from containerguard.errors import LayerError
from containerguard.layers.tarstream import TarStream
from needs import missing

LONG = "usr/lib/" + "/".join([f"very-long-directory-name-{i:02d}" for i in range(12)]) + "/file.txt"


def build(fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        def add(name: str, data: bytes | None = None, kind: bytes = tarfile.REGTYPE, link: str = "",
                mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = kind, link, mode
            info.size = len(data) if data is not None else 0
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
        add("etc", kind=tarfile.DIRTYPE, mode=0o755)
        add("etc/os-release", b"ID=debian\n")
        add(LONG, b"x" * 1000)
        add("bin/sh", kind=tarfile.SYMTYPE, link="/" + LONG)
        add("bin/hard", kind=tarfile.LNKTYPE, link="etc/os-release")
        add("dev/null", kind=tarfile.CHRTYPE)
        add("usr/bin/tool", os.urandom(70000), mode=0o755)
        add("empty", b"")
        add("caf\u00e9/ünïcode", b"u")
    return buf.getvalue()


def members_tarfile(data: bytes) -> list[tuple[str, str, int, int, str, bytes]]:
    kinds = {tarfile.REGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink",
             tarfile.LNKTYPE: "hardlink"}
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tf:
        for m in tf:
            content = tf.extractfile(m).read() if m.isreg() else b""  # type: ignore[union-attr]
            out.append((m.name, kinds.get(m.type, "other"), m.size if m.isreg() else 0, m.mode, m.linkname, content))
    return out


def members_ours(data: bytes, chunk: int = 7) -> list[tuple[str, str, int, int, str, bytes]]:
    class Dribble:
        """Returns few bytes per read, to exercise buffer refills."""

        def __init__(self) -> None:
            self.src = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self.src.read(min(n, chunk) if n > 0 else chunk)

    ts = TarStream(Dribble() if chunk else io.BytesIO(data))
    # tarfile drops a directory's trailing slash; so does the walker's path normalisation.
    return [(m.name.rstrip("/") if m.kind == "dir" else m.name, m.kind, m.size, m.mode, m.linkname,
             ts.read_data() if m.kind == "file" else b"") for m in ts]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT],
                         ids=["ustar", "gnu", "pax"])
@pytest.mark.parametrize("chunk", [0, 7, 4096])
def test_agrees_with_tarfile(fmt: int, chunk: int) -> None:
    if fmt == tarfile.USTAR_FORMAT:
        pytest.importorskip("tarfile")  # ustar cannot hold LONG as one name component run: use a shorter tree
    data = build(fmt) if fmt != tarfile.USTAR_FORMAT else _ustar()
    assert members_ours(data, chunk) == members_tarfile(data)


def _ustar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        name = "a" * 90 + "/" + "b" * 90 + "/c.txt"  # needs the ustar prefix field
        info = tarfile.TarInfo(name)
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()


def test_unread_data_is_skipped() -> None:
    data = build(tarfile.PAX_FORMAT)
    names = [m.name.rstrip("/") for m in TarStream(io.BytesIO(data))]
    assert names == [m[0] for m in members_tarfile(data)]


def test_real_debian_layer_agrees_with_tarfile() -> None:
    cache = Path(os.environ.get("CG_FIXTURE_CACHE", Path.home() / ".cache/containerguard-fixtures"))
    tarball = cache / "bookworm-minbase.tar"
    if not tarball.exists():
        missing("no cached debootstrap tarball (make test builds it)")
    data = tarball.read_bytes()
    want = members_tarfile(data)
    assert members_ours(data, 0) == want
    ts = TarStream(Chunks(data, [1000003, 511, 65536, 4 << 20]))  # reads that split headers and files
    assert [(m.name.rstrip("/") if m.kind == "dir" else m.name, m.kind, m.size, m.mode, m.linkname,
             ts.read_data() if m.kind == "file" else b"") for m in ts] == want


def test_bad_checksum_is_refused() -> None:
    data = bytearray(build(tarfile.GNU_FORMAT))
    data[10] ^= 0x55
    with pytest.raises(LayerError, match="checksum"):
        list(TarStream(io.BytesIO(bytes(data))))


def test_truncated_member_is_refused() -> None:
    data = build(tarfile.GNU_FORMAT)
    ts = TarStream(io.BytesIO(data[:5000]))
    with pytest.raises(LayerError, match="unexpected end"):
        for m in ts:
            if m.kind == "file":
                ts.read_data()


def test_huge_pax_header_is_refused() -> None:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 10 * 1024 * 1024
    raw = header.tobuf(tarfile.USTAR_FORMAT)
    with pytest.raises(LayerError, match="extended header"):
        list(TarStream(io.BytesIO(raw + b"\0" * 1024)))


def test_base256_size_is_understood() -> None:
    info = tarfile.TarInfo("big")
    info.size = 3
    raw = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    raw[124:136] = b"\x80" + (3).to_bytes(11, "big")
    raw[148:156] = b" " * 8
    chk = sum(raw)
    raw[148:156] = b"%06o\0 " % chk
    data = bytes(raw) + b"abc".ljust(512, b"\0") + b"\0" * 1024
    ts = TarStream(io.BytesIO(data))
    (m,) = [(m.name, m.size, ts.read_data()) for m in ts]
    assert m == ("big", 3, b"abc")


class Chunks:
    """Returns reads of uneven sizes (cycling), like a pipe or a decompressor does."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.src, self.sizes, self.i = io.BytesIO(data), sizes, 0

    def read(self, n: int = -1) -> bytes:
        self.i += 1
        return self.src.read(self.sizes[self.i % len(self.sizes)])


def _big_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, size in [("a", 100), ("big1", 5 * 1024 * 1024 + 17), ("b", 513), ("big2", 9 * 1024 * 1024),
                           ("skipped-big", 6 * 1024 * 1024 + 1), ("c", 0), ("d", 511)]:
            info = tarfile.TarInfo(name)
            info.size = size
            tf.addfile(info, io.BytesIO(os.urandom(size)))
    return buf.getvalue()


@pytest.mark.parametrize("sizes", [[1 << 20], [1000003, 7, 65536, 511], [4 << 20, 300], [12 << 20]],
                         ids=["1MiB", "uneven", "4MiB", "whole"])
def test_big_members_and_straddling_headers_agree_with_tarfile(sizes: list[int]) -> None:
    data = _big_tar()
    want = members_tarfile(data)
    ts = TarStream(Chunks(data, sizes))
    got = [(m.name, m.kind, m.size, m.mode, m.linkname, ts.read_data() if m.name != "skipped-big" else b"")
           for m in ts]
    assert [g[:5] for g in got] == [w[:5] for w in want]
    assert [g[5] for g in got if g[0] != "skipped-big"] == [w[5] for w in want if w[0] != "skipped-big"]


def test_truncated_big_member_is_refused() -> None:
    data = _big_tar()
    ts = TarStream(Chunks(data[:3 * 1024 * 1024], [1 << 20]))
    with pytest.raises(LayerError, match="unexpected end"):
        for _ in ts:
            ts.read_data()
