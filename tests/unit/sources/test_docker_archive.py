"""``docker-archive:``: legacy and Docker 25+ layouts, image selection, verification, hostile archives."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

import pytest
from imagebuilder import add_member, add_symlink, build_image, write_docker_save

from containerguard.errors import DigestMismatch, SourceError
from containerguard.models.artifact import ImageMetadata
from containerguard.sources.docker_archive import DockerArchiveSource, split_archive_ref
from containerguard.sources.ref import open_source

SHARED = {"etc/os-release": b"ID=debian\n"}
IMG = build_image([SHARED, {"app/x": b"1"}], compress=False)
OTHER = build_image([SHARED, {"app/y": b"2"}], compress=False, arch="arm64")
# A layer repeated in one image: legacy docker save writes the second as a symlink.
DUP = build_image([SHARED, {"z": b"z"}, SHARED], compress=False)


def _blobs(ref: str) -> tuple[ImageMetadata, list[bytes]]:
    source = open_source(ref)
    meta = source.metadata()
    out = []
    for layer in meta.layers:
        with source.open_blob(layer) as blob:
            out.append(blob.read())
    source.close()
    return meta, out


@pytest.mark.parametrize("oci_style", [False, True])
def test_read_archive(tmp_path: Path, oci_style: bool) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["example/app:1"])], oci_style=oci_style)
    meta, blobs = _blobs(f"docker-archive:{path}")
    assert meta.source == "docker-archive" and meta.repo_tags == ("example/app:1",)
    assert meta.config_digest == IMG.config_digest
    assert [la.diff_id for la in meta.layers] == [la.diff_id for la in IMG.layers]
    # Docker save stores uncompressed layers: the blob digest is the diff_id.
    assert [la.digest for la in meta.layers] == [la.diff_id for la in IMG.layers]
    assert [la.created_by for la in meta.layers] == ["step 0", "step 1"]
    assert all(la.media_type.endswith("diff.tar") for la in meta.layers)
    assert [la.size for la in meta.layers] == [len(la.tar) for la in IMG.layers]
    assert blobs == [la.tar for la in IMG.layers]
    assert bool(meta.manifest_digest) is oci_style


def test_legacy_symlinked_duplicate_layer(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(DUP, ["dup:latest"])])
    with tarfile.open(path) as tar:
        assert sum(m.issym() for m in tar.getmembers()) == 1
    _, blobs = _blobs(f"docker-archive:{path}")
    assert blobs == [la.tar for la in DUP.layers]


def test_compressed_blob_in_oci_style_archive(tmp_path: Path) -> None:
    # The containerd image store saves layers as pulled (gzip): verified by the path digest.
    img = build_image([{"a": b"1"}])
    layer = img.layers[0]
    name = f"blobs/sha256/{layer.digest.split(':')[1]}"
    config = f"blobs/sha256/{img.config_digest.split(':')[1]}"
    path = write_docker_save(tmp_path / "a.tar", [], extra={name: layer.blob, config: img.config},
                             manifest_override=[{"Config": config, "RepoTags": None, "Layers": [name]}])
    meta, blobs = _blobs(f"docker-archive:{path}")
    assert meta.layers[0].digest == layer.digest and meta.layers[0].diff_id == layer.diff_id
    assert meta.layers[0].media_type.endswith("gzip")
    assert blobs == [layer.blob]


def test_compressed_outer_archive(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["x:1"])])
    gz = tmp_path / "a.tar.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    _, blobs = _blobs(f"docker-archive:{gz}")
    assert blobs == [la.tar for la in IMG.layers]


def test_select_image(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["example/app:1"]), (OTHER, ["other:2"])])
    assert open_source(f"docker-archive:{path}").metadata().config_digest == IMG.config_digest
    assert open_source(f"docker-archive:{path}:other:2").metadata().config_digest == OTHER.config_digest
    assert open_source(f"docker-archive:{path}:docker.io/library/other:2").metadata().config_digest \
        == OTHER.config_digest
    assert open_source(f"docker-archive:{path}:@1").metadata().config_digest == OTHER.config_digest
    with pytest.raises(SourceError, match="no image named 'nope:1'; tags: example/app:1, other:2"):
        open_source(f"docker-archive:{path}:nope:1").metadata()
    with pytest.raises(SourceError, match="no image @5"):
        open_source(f"docker-archive:{path}:@5").metadata()


def test_split_archive_ref_with_colons_in_path(tmp_path: Path) -> None:
    weird = tmp_path / "a:b.tar"
    weird.write_bytes(b"")
    assert split_archive_ref(str(weird)) == (weird, "")
    assert split_archive_ref(f"{weird}:repo:tag") == (weird, "repo:tag")
    with pytest.raises(SourceError, match="no such file"):
        split_archive_ref(str(tmp_path / "missing.tar"))


@pytest.mark.parametrize("oci_style", [False, True])
def test_layer_tampered(tmp_path: Path, oci_style: bool) -> None:
    config = f"{IMG.config_digest.split(':')[1]}.json"
    wrong = IMG.layers[1].tar.replace(b"1", b"2")
    if oci_style:
        names = [f"blobs/sha256/{la.diff_id.split(':')[1]}" for la in IMG.layers]
    else:
        names = ["aaa/layer.tar", "bbb/layer.tar"]
    path = write_docker_save(
        tmp_path / "a.tar", [], extra={config: IMG.config, names[0]: IMG.layers[0].tar, names[1]: wrong},
        manifest_override=[{"Config": config, "Layers": names}])
    source = open_source(f"docker-archive:{path}")
    meta = source.metadata()
    with source.open_blob(meta.layers[0]) as blob:
        assert blob.read() == IMG.layers[0].tar
    with pytest.raises(DigestMismatch, match="layer digest mismatch"), source.open_blob(meta.layers[1]) as blob:
        blob.read()


def test_config_tampered(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["x:1"])])
    data = path.read_bytes().replace(b'"architecture":"amd64"', b'"architecture":"arm64"')
    path.write_bytes(data)
    with pytest.raises(DigestMismatch, match="image config"):
        open_source(f"docker-archive:{path}").metadata()


@pytest.mark.parametrize("evil", ["../../evil.sh", "/etc/passwd", "a/../../b"])
def test_hostile_member_names(tmp_path: Path, evil: str) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["x:1"])], extra={evil: b"boom"})
    with pytest.raises(SourceError, match="hostile"):
        open_source(f"docker-archive:{path}")


def test_hostile_manifest_paths_and_links(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["x:1"])], manifest_override=[
        {"Config": "../../etc/shadow", "RepoTags": None, "Layers": []}])
    with pytest.raises(SourceError, match="hostile"):
        open_source(f"docker-archive:{path}").metadata()
    link = tmp_path / "link.tar"
    with tarfile.open(link, "w") as tar:
        add_symlink(tar, "cfg.json", "../../../etc/passwd")
        add_member(tar, "manifest.json", b'[{"Config":"cfg.json","Layers":[]}]')
    with pytest.raises(SourceError, match="hostile"):
        open_source(f"docker-archive:{link}").metadata()


@pytest.mark.parametrize("manifest", [b"{}", b"[]", b"not json", b'[{"Config": 3, "Layers": []}]'])
def test_malformed_manifest_json(tmp_path: Path, manifest: bytes) -> None:
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as tar:
        add_member(tar, "manifest.json", manifest)
    with pytest.raises(SourceError):
        open_source(f"docker-archive:{path}").metadata()


def test_layer_count_mismatch(tmp_path: Path) -> None:
    path = write_docker_save(tmp_path / "a.tar", [(IMG, ["x:1"])])
    source = open_source(f"docker-archive:{path}")
    assert isinstance(source, DockerArchiveSource)
    entry_layers = 2
    assert len(source.metadata().layers) == entry_layers
    bad = write_docker_save(tmp_path / "b.tar", [(IMG, ["x:1"])], manifest_override=[
        {"Config": f"{IMG.config_digest.split(':')[1]}.json", "Layers": []}])
    with pytest.raises(SourceError, match="0 layers but the config has 2"):
        open_source(f"docker-archive:{bad}").metadata()


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as tar:
        add_member(tar, "hello", b"x")
    with pytest.raises(SourceError, match=r"no manifest\.json"):
        open_source(f"docker-archive:{path}").metadata()
