"""Layers read concurrently by child processes: same SBOM as one at a time, progress in layer order, errors in order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from imagebuilder import BuiltImage, OciLayout, build_image

from containerguard.errors import DigestMismatch
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.pipeline import inventory as inv
from containerguard.pipeline.inventory import InventoryRun, Progress
from containerguard.sources.base import SourceOptions

OS_RELEASE = b'ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n'
APK_DB = b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\n"
DIST = "usr/lib/python3.11/site-packages/{0}-{1}.dist-info/METADATA"


def dist(name: str, version: str) -> dict[str, bytes]:
    return {DIST.format(name, version): f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()}


LAYERS = [{"etc/os-release": OS_RELEASE, "lib/apk/db/installed": APK_DB, "junk": os.urandom(200_000)},
          dist("six", "1.16.0"), {**dist("requests", "2.19.0"), "big": os.urandom(600_000)},
          {"usr/lib/python3.11/site-packages/.wh.six-1.16.0.dist-info": b""}, dist("idna", "2.7")]


@pytest.fixture(autouse=True)
def children(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every layer goes to a child process, however small."""
    monkeypatch.setattr("containerguard.layers.walker.PROCESS_MIN_BYTES", 0)


def layout(tmp_path: Path) -> tuple[Path, BuiltImage]:
    oci = OciLayout(tmp_path / "oci")
    image = build_image(LAYERS)
    oci.tag(oci.add_image(image), "x")
    return oci.write(), image


class Recorder(Progress):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.current = -1
        self.bytes: dict[int, int] = {}

    def metadata(self, meta: ImageMetadata) -> None:
        self.events.append(("metadata", len(meta.layers)))

    def layer_start(self, index: int, layer: Layer, cached: bool) -> None:
        self.events.append(("start", index))
        self.current = index

    def layer_bytes(self, count: int) -> None:
        self.bytes[self.current] = self.bytes.get(self.current, 0) + count

    def layer_done(self, index: int, layer: Layer) -> None:
        self.events.append(("done", index))


def test_concurrent_layers_give_the_sequential_sbom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, image = layout(tmp_path)
    monkeypatch.setattr(inv, "PARALLEL_LAYERS", 1)
    one = InventoryRun(SourceOptions(), use_cache=False).run(f"oci:{root}:x")
    monkeypatch.setattr(inv, "PARALLEL_LAYERS", 3)
    recorder = Recorder()
    run = InventoryRun(SourceOptions(), recorder, use_cache=False)
    many = run.run(f"oci:{root}:x")
    assert many == one
    assert {(p.name, p.version) for p in many.packages} == {
        ("musl", "1.2.4-r2"), ("requests", "2.19.0"), ("idna", "2.7")}  # six is whited out
    n = len(LAYERS)
    assert recorder.events == [("metadata", n)] + [e for i in range(n) for e in (("start", i), ("done", i))]
    assert recorder.bytes == {i: len(layer.blob) for i, layer in enumerate(image.layers)}
    assert run.stats.bytes_read == sum(len(layer.blob) for layer in image.layers)


def test_the_first_failing_layer_in_order_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, image = layout(tmp_path)
    monkeypatch.setattr(inv, "PARALLEL_LAYERS", 3)
    for index in (1, 2):  # two damaged layers, read at the same time: the scan names the earlier one
        blob = root / "blobs/sha256" / image.layers[index].digest.split(":")[1]
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF
        blob.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch, match=image.layers[1].digest):
        InventoryRun(SourceOptions(), use_cache=False).run(f"oci:{root}:x")
