"""Inventory of OCI layouts end to end: shared-layer cache, whiteouts, hostile and corrupt images via the CLI."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from imagebuilder import OciLayout, build_image, dumps, sha256
from layertar import make_tar

from containerguard.pipeline.inventory import InventoryRun
from containerguard.sources.base import SourceOptions

OS_RELEASE = b'ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n'
APK_DB = (b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\n"
          b"P:busybox\nV:1.36.1-r5\nA:x86_64\no:busybox\nL:GPL-2.0-only\n\n")
DIST = "usr/lib/python3.11/site-packages/{0}-{1}.dist-info/METADATA"


def meta(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()


BASE = {"etc/os-release": OS_RELEASE, "lib/apk/db/installed": APK_DB}
APP = {DIST.format("requests", "2.19.0"): meta("requests", "2.19.0"),
       DIST.format("six", "1.16.0"): meta("six", "1.16.0")}


def layout(tmp: Path, images: dict[str, list[dict[str, bytes]]]) -> Path:
    oci = OciLayout(tmp)
    for tag, layers in images.items():
        oci.tag(oci.add_image(build_image(layers)), tag)
    return oci.write()


def test_shared_base_layers_come_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                delegate: str) -> None:
    monkeypatch.setenv("CONTAINERGUARD_HOME", str(tmp_path / "home"))
    root = layout(tmp_path / "oci", {"a": [BASE, APP], "b": [BASE, APP, {"opt/x/package.json": b"{}"}]})
    first = InventoryRun(SourceOptions())
    sbom_a = first.run(f"oci:{root}:a")
    assert (first.stats.layers, first.stats.cached_layers) == (2, 0)
    second = InventoryRun(SourceOptions())
    sbom_b = second.run(f"oci:{root}:b")
    assert (second.stats.layers, second.stats.cached_layers) == (3, 2)
    new_blob = json.loads((root / "blobs/sha256" / sbom_b.artifact.manifest_digest.split(":")[1]).read_text())
    assert second.stats.bytes_read == new_blob["layers"][2]["size"]  # only the new layer was read
    assert {(p.type, p.name, p.version) for p in sbom_a.packages} == {
        ("apk", "musl", "1.2.4-r2"), ("apk", "busybox", "1.36.1-r5"),
        ("pypi", "requests", "2.19.0"), ("pypi", "six", "1.16.0")}
    assert sbom_a.packages == sbom_b.packages
    again = InventoryRun(SourceOptions())
    assert again.run(f"oci:{root}:a") == sbom_a and again.stats.bytes_read == 0


def test_whiteout_hides_a_package_of_a_lower_layer(tmp_path: Path, delegate: str) -> None:
    gone = {"usr/lib/python3.11/site-packages/.wh.six-1.16.0.dist-info": b""}
    root = layout(tmp_path / "oci", {"x": [BASE, APP, gone]})
    sbom = InventoryRun(SourceOptions()).run(f"oci:{root}:x")
    names = {p.name for p in sbom.packages}
    assert "requests" in names and "six" not in names
    (req,) = [p for p in sbom.packages if p.name == "requests"]
    assert req.locations[0].layer_digest == sbom.artifact.layers[1].diff_id


def raw_layout(tmp: Path, layer: bytes) -> Path:
    """A one-layer OCI layout around a hand-made (possibly hostile) layer tar."""
    oci = OciLayout(tmp)
    blob = gzip.compress(layer)
    config = dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}})
    manifest = dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": oci.add_blob(config), "size": len(config)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": oci.add_blob(blob), "size": len(blob)}]})
    oci.tag({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": oci.add_blob(manifest),
             "size": len(manifest)})
    return oci.write()


@pytest.fixture(params=["in-process", "child-fetch"])
def delegate(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test both with layers read in this process and with a child process fetching them."""
    threshold = "0" if request.param == "child-fetch" else str(1 << 60)
    monkeypatch.setenv("CONTAINERGUARD_INFLATE_MIN_BYTES", threshold)
    monkeypatch.setattr("containerguard.layers.walker.PROCESS_MIN_BYTES", int(threshold))
    return str(request.param)


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERGUARD_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "containerguard", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=home.parent)


def snapshot(root: Path, skip: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if skip not in p.parents and p != skip}


@pytest.mark.parametrize(("entries", "message"), [
    ([("../../evil", "pwned")], "escapes the image root"),
    ([("etc/../../../tmp/evil", "pwned")], "escapes the image root"),
    ([("usr/lib/x", "=>../../../etc/shadow")], "escapes the image root"),
])
def test_hostile_layer_is_refused_and_writes_nothing(tmp_path: Path, entries: list, message: str,  # type: ignore[type-arg]
                                                     delegate: str) -> None:
    root = raw_layout(tmp_path / "oci", make_tar(entries))
    home = tmp_path / "home"
    before = snapshot(tmp_path, home)
    res = cli("sbom", f"oci:{root}", "-o", str(tmp_path / "out.json"), home=home)
    assert res.returncode == 2
    assert message in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert snapshot(tmp_path, home) == before  # no output file, nothing written next to the image


def test_corrupt_blob_is_a_digest_error(tmp_path: Path, delegate: str) -> None:
    root = layout(tmp_path / "oci", {"a": [BASE, APP]})
    biggest = max((root / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    biggest.write_bytes(bytes(data))
    res = cli("sbom", f"oci:{root}:a", home=tmp_path / "home")
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "digest" in res.stderr or "corrupt" in res.stderr


def test_truncated_blob_is_one_clear_line(tmp_path: Path, delegate: str) -> None:
    root = layout(tmp_path / "oci", {"a": [BASE, APP]})
    biggest = max((root / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[:-40])
    res = cli("scan", "image", f"oci:{root}:a", home=tmp_path / "home")
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr
