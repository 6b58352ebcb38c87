"""``oci:PATH[:TAG]``: layouts as directories and tars, tags, platforms, nested indexes, verification."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from imagebuilder import BuiltImage, OciLayout, build_image, dumps, tar_directory

from containerguard.errors import DigestMismatch, SourceError
from containerguard.models.artifact import Platform
from containerguard.sources.base import SourceOptions
from containerguard.sources.oci_layout import OciLayoutSource
from containerguard.sources.ref import open_source

IMG = build_image([{"etc/os-release": b"ID=debian\n"}, {"app/x": b"1"}], labels={"a": "b"})
ARM = build_image([{"etc/os-release": b"ID=alpine\n"}], arch="arm64")


def _layout(root: Path, images: list[tuple[BuiltImage, str]]) -> Path:
    layout = OciLayout(root)
    for img, tag in images:
        layout.tag(layout.add_image(img), tag)
    return layout.write()


def _read_all(source: OciLayoutSource) -> list[bytes]:
    out = []
    for layer in source.metadata().layers:
        with source.open_blob(layer) as blob:
            out.append(blob.read())
    return out


@pytest.mark.parametrize("as_tar", [False, True])
def test_layout_dir_and_tar(tmp_path: Path, as_tar: bool) -> None:
    root = _layout(tmp_path / "layout", [(IMG, "1.0")])
    path = tar_directory(root, tmp_path / "layout.tar") if as_tar else root
    source = open_source(f"oci:{path}:1.0")
    assert isinstance(source, OciLayoutSource)
    meta = source.metadata()
    assert meta.source == "oci" and meta.name == f"oci:{path}:1.0"
    assert meta.manifest_digest == IMG.manifest_digest
    assert meta.config_digest == IMG.config_digest
    assert meta.repo_tags == ("1.0",)
    assert meta.labels == (("a", "b"),)
    assert [(la.digest, la.diff_id, la.created_by) for la in meta.layers] == [
        (la.digest, la.diff_id, f"step {i}") for i, la in enumerate(IMG.layers)]
    assert _read_all(source) == [la.blob for la in IMG.layers]
    source.close()


def test_untagged_single_image(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "")])
    assert open_source(f"oci:{root}").metadata().manifest_digest == IMG.manifest_digest


def test_tag_selection_and_errors(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "one"), (ARM, "two")])
    assert open_source(f"oci:{root}:two").metadata().manifest_digest == ARM.manifest_digest
    with pytest.raises(SourceError, match="no image tagged 'three'; tags: one, two"):
        open_source(f"oci:{root}:three").metadata()
    with pytest.raises(SourceError, match="holds several images"):
        open_source(f"oci:{root}").metadata()


def test_multi_platform_nested_index(tmp_path: Path) -> None:
    layout = OciLayout(tmp_path / "l")
    layout.tag(layout.add_index([IMG, ARM]), "multi")
    root = layout.write()
    amd = open_source(f"oci:{root}:multi").metadata()
    assert amd.manifest_digest == IMG.manifest_digest and amd.platform == Platform("linux", "amd64")
    arm = open_source(f"oci:{root}:multi", SourceOptions(platform=Platform("linux", "arm64"))).metadata()
    assert arm.manifest_digest == ARM.manifest_digest and arm.platform.architecture == "arm64"
    with pytest.raises(SourceError, match="available: linux/amd64, linux/arm64"):
        open_source(f"oci:{root}:multi", SourceOptions(platform=Platform("linux", "ppc64le"))).metadata()


def test_layer_digest_mismatch(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "1")])
    (root / "blobs" / "sha256" / IMG.layers[1].digest.split(":")[1]).write_bytes(
        b"X" * len(IMG.layers[1].blob))
    source = open_source(f"oci:{root}:1")
    with pytest.raises(DigestMismatch, match="layer digest mismatch"):
        _read_all(source)  # type: ignore[arg-type]


def test_manifest_and_config_tampering(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "1")])
    config_path = root / "blobs" / "sha256" / IMG.config_digest.split(":")[1]
    config_path.write_bytes(IMG.config.replace(b"amd64", b"arm64"))
    with pytest.raises(DigestMismatch, match="image config"):
        open_source(f"oci:{root}:1").metadata()
    manifest_path = root / "blobs" / "sha256" / IMG.manifest_digest.split(":")[1]
    manifest_path.write_bytes(IMG.manifest.replace(b"\"size\"", b"\"size\" "))
    with pytest.raises(DigestMismatch, match="manifest"):
        open_source(f"oci:{root}:1").metadata()


def test_unknown_manifest_media_type_in_layout(tmp_path: Path) -> None:
    layout = OciLayout(tmp_path / "l")
    artifact = dumps({"schemaVersion": 2, "mediaType": "application/vnd.example.thing+json"})
    desc = {"mediaType": "application/vnd.example.thing+json", "digest": layout.add_blob(artifact),
            "size": len(artifact)}
    layout.entries.append(desc)
    root = layout.write()
    # index.json lists only an artifact: nothing that is an image.
    with pytest.raises(SourceError, match="lists no manifests"):
        open_source(f"oci:{root}").metadata()


def test_hostile_layout_tar(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "1")])
    out = tar_directory(root, tmp_path / "evil.tar")
    with tarfile.open(out, "a") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        tar.addfile(info)
    with pytest.raises(SourceError, match="hostile path"):
        open_source(f"oci:{out}:1")


def test_symlink_escaping_layout_dir(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "1")])
    secret = tmp_path / "secret"
    secret.write_text("{}")
    blob = root / "blobs" / "sha256" / IMG.config_digest.split(":")[1]
    blob.unlink()
    blob.symlink_to(secret)
    with pytest.raises(SourceError, match="outside the layout"):
        open_source(f"oci:{root}:1").metadata()


def test_not_a_layout(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"no index\.json"):
        open_source(f"oci:{tmp_path / 'empty'}").metadata()
    with pytest.raises(SourceError, match="no such OCI layout"):
        open_source(f"oci:{tmp_path / 'missing'}:tag")
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(SourceError, match="not a readable tar"):
        open_source(f"oci:{tmp_path / 'junk.tar'}")


def test_bad_layout_version(tmp_path: Path) -> None:
    root = _layout(tmp_path / "l", [(IMG, "1")])
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "2.0.0"}))
    with pytest.raises(SourceError, match="unsupported OCI layout version"):
        open_source(f"oci:{root}:1").metadata()


def test_walker_reads_and_verifies_layers(tmp_path: Path) -> None:
    from containerguard.config import Limits
    from containerguard.layers.walker import LayerWalker

    root = _layout(tmp_path / "l", [(IMG, "1")])
    walker = LayerWalker([], Limits())
    source = open_source(f"oci:{root}:1")
    for layer in source.metadata().layers:
        assert source.inventory_layer(layer, walker) is not None
    # A different but well-formed gzip layer under the old name: only the digest check can tell.
    forged = build_image([{"etc/os-release": b"ID=evil\n"}]).layers[0].blob
    (root / "blobs" / "sha256" / IMG.layers[0].digest.split(":")[1]).write_bytes(forged)
    source = open_source(f"oci:{root}:1")
    with pytest.raises(DigestMismatch):
        source.inventory_layer(source.metadata().layers[0], walker)
