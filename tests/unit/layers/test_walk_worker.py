"""A layer read whole by a child process (walk_worker) gives what the in-process walk gives, and fails the same way."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
from layertar import gz, make_tar, zst

from containerguard.collectors.base import Collector, FileInfo, all_collectors
from containerguard.config import Limits
from containerguard.errors import DigestMismatch, LayerError
from containerguard.layers.inflate_worker import CorruptFailed, InflatingReader, LimitFailed
from containerguard.layers.walker import LayerWalker
from containerguard.models.layer import LayerInventory
from containerguard.models.sbom import Collected, Package

OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
DPKG = (b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\n"
        b"Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"
        b"Architecture: amd64\n\n")
META = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n"
LAYER = make_tar([
    ("etc", None), ("etc/os-release", OS_RELEASE.decode()), ("var/lib/dpkg/status", DPKG.decode()),
    ("usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA", META.decode()),
    ("usr/lib/python3/dist-packages/requests-2.19.0.dist-info/RECORD", ""),
    ("usr/share/doc/big.txt", "x" * 300_000), ("usr/lib/os-release", "=>etc/os-release"),
    ("usr/share/.wh.gone", ""), ("opt/.wh..wh..opq", ""),
])


def walker(**limits: int) -> LayerWalker:
    return LayerWalker(all_collectors(frozenset({"lockfile"})), Limits(**limits))


def locator(tmp_path: Path, blob: bytes) -> dict[str, object]:
    path = tmp_path / "blob"
    path.write_bytes(blob)
    return {"path": str(path), "offset": 0, "length": -1, "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
            "size": len(blob)}


def in_child(tmp_path: Path, blob: bytes, diff_id: str = "sha256:layer", **limits: int) -> LayerInventory:
    return walker(**limits).walk_located(locator(tmp_path, blob), diff_id)


def in_process(blob: bytes, diff_id: str = "sha256:layer", **limits: int) -> LayerInventory:
    return walker(**limits).walk_blob(io.BytesIO(blob), diff_id, len(blob))


@pytest.mark.parametrize("codec", [lambda b: b, gz, zst, lambda b: gzip.compress(b[:7000]) + gzip.compress(b[7000:])],
                         ids=["tar", "gzip", "zstd", "multi-member-gzip"])
def test_child_walk_equals_the_in_process_walk(tmp_path: Path, codec) -> None:  # type: ignore[no-untyped-def]
    blob = codec(LAYER)
    got = in_child(tmp_path, blob)
    assert got == in_process(blob)
    assert {p.name for f in got.files for p in f.collected.packages} >= {"bash", "zlib1g", "requests"}
    assert got.whiteouts == ("usr/share/gone",) and got.opaque_dirs == ("opt",)


def test_progress_counts_every_compressed_byte(tmp_path: Path) -> None:
    blob = gz(LAYER + os.urandom(1 << 20))  # incompressible tail: more than one progress line
    seen: list[int] = []
    w = walker()
    w.on_bytes = seen.append
    w.walk_located(locator(tmp_path, blob), "sha256:layer")
    assert sum(seen) == len(blob)


def test_a_damaged_blob_is_a_digest_error(tmp_path: Path) -> None:
    blob = bytearray(gz(LAYER))
    loc = locator(tmp_path, bytes(blob))
    blob[len(blob) // 2] ^= 0xFF
    Path(str(loc["path"])).write_bytes(bytes(blob))
    with pytest.raises(DigestMismatch):
        walker().walk_located(loc, "sha256:layer")


@pytest.mark.parametrize(("entries", "message"), [
    ([("../../evil", "x")], "escapes the image root"),
    ([("usr/lib/x", "=>../../../etc/shadow")], "escapes the image root"),
])
def test_hostile_layer_gives_the_in_process_message(tmp_path: Path, entries: list, message: str) -> None:  # type: ignore[type-arg]
    blob = gz(make_tar(entries))
    with pytest.raises(LayerError, match=message) as child:
        in_child(tmp_path, blob)
    with pytest.raises(LayerError) as here:
        in_process(blob)
    assert str(child.value) == str(here.value)


def test_limits_apply_in_the_child(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="over 3 entries"):
        in_child(tmp_path, gz(LAYER), max_entries=3)
    with pytest.raises(LayerError, match="over the limit"):
        in_child(tmp_path, gz(LAYER), max_file_bytes=1000)
    with pytest.raises(LayerError, match="over the size limit"):
        in_child(tmp_path, gz(LAYER), max_layer_bytes=10_000)
    with pytest.raises(LayerError, match="decompression bomb"):
        in_child(tmp_path, gz(make_tar([("zeros", "\0" * (70 << 20))])), max_ratio=50)


def test_truncated_layer_is_corrupt_not_a_digest_error(tmp_path: Path) -> None:
    blob = gz(LAYER)[:-40]  # the digest is of the truncated blob: the data itself is bad
    with pytest.raises(LayerError, match="truncated or corrupt"):
        in_child(tmp_path, blob)


def test_cancel_stops_the_child(tmp_path: Path) -> None:
    w = walker()
    w.cancel = threading.Event()
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)  # the child blocks opening it: only the cancel ends the walk
    loc = {"path": str(fifo), "offset": 0, "length": -1, "digest": "sha256:" + "0" * 64, "size": 10}
    threading.Timer(0.3, w.cancel.set).start()
    start = time.monotonic()
    with pytest.raises(LayerError, match="cancelled"):
        w.walk_located(loc, "sha256:layer")
    assert time.monotonic() - start < 5


class EchoCollector(Collector):
    """Not a registered plugin: a child process could not rebuild it."""

    name: ClassVar[str] = "echo"

    def required(self, info: FileInfo) -> bool:
        return info.path.startswith("opt/pkgs/")

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        return self.packages([Package("generic", info.path.rsplit("/", 1)[-1], content.decode())])


def test_unregistered_collectors_are_run_in_this_process(tmp_path: Path) -> None:
    blob = gz(make_tar([("opt/pkgs/a", "1.0")]))
    inv = LayerWalker([EchoCollector()], Limits()).walk_located(locator(tmp_path, blob), "sha256:layer")
    assert [(p.name, p.version) for f in inv.files for p in f.collected.packages] == [("a", "1.0")]


@pytest.mark.parametrize("codec", [lambda b: b, gz, zst], ids=["tar", "gzip", "zstd"])
def test_inflating_reader_gives_the_data_back(codec) -> None:  # type: ignore[no-untyped-def]
    data = LAYER + os.urandom(3 << 20) + b"\0" * (9 << 20)
    reader = InflatingReader(io.BytesIO(codec(data)))
    out = []
    while chunk := reader.read():
        assert len(chunk) <= 4 << 20
        out.append(chunk)
    assert b"".join(out) == data and reader.count == len(data)


def test_inflating_reader_refuses_bad_data() -> None:
    with pytest.raises(CorruptFailed):
        reader = InflatingReader(io.BytesIO(gz(LAYER)[:-40]))
        while reader.read():
            pass
    with pytest.raises(CorruptFailed):
        reader = InflatingReader(io.BytesIO(gz(LAYER) + b"garbage"))
        while reader.read():
            pass
    with pytest.raises(LimitFailed, match="size limit"):
        reader = InflatingReader(io.BytesIO(gz(LAYER)), max_bytes=1000)
        while reader.read():
            pass


@pytest.mark.parametrize("codec", [gz, zst], ids=["gzip", "zstd"])
def test_streamed_blob_decompressed_in_a_child_equals_in_process(monkeypatch: pytest.MonkeyPatch, codec) -> None:  # type: ignore[no-untyped-def]
    blob = codec(LAYER)
    here = in_process(blob)
    monkeypatch.setattr("containerguard.layers.decompress.PROCESS_MIN_BYTES", 0)
    assert in_process(blob) == here
    with pytest.raises(LayerError, match="truncated or corrupt"):
        in_process(blob[:-40])
