"""Manifest/index/config parsing and platform selection."""

from __future__ import annotations

import hashlib
import json

import pytest
from imagebuilder import DOCKER_LIST, OCI_INDEX, build_image, dumps, index_bytes

from containerguard.errors import DigestMismatch, SourceError
from containerguard.models.artifact import Platform
from containerguard.sources.manifest import (
    ImageIndex,
    ImageManifest,
    build_layers,
    parse_config,
    parse_manifest,
    platform_matches,
    resolve_image,
    select_platform,
    sha256_digest,
    sniff_media_type,
    verify_bytes,
)

AMD64 = build_image([{"a": b"1"}], arch="amd64")
ARM64 = build_image([{"a": b"2"}], arch="arm64", variant="v8")
ARMV7 = build_image([{"a": b"3"}], arch="arm", variant="v7")
ATTEST = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "a" * 64,
          "size": 10, "platform": {"os": "unknown", "architecture": "unknown"}}


def _index(*images: object, media_type: str = OCI_INDEX, extra: list[dict[str, object]] | None = None
           ) -> ImageIndex:
    entries = [img.descriptor() for img in images] + (extra or [])  # type: ignore[attr-defined]
    parsed = parse_manifest(index_bytes(entries, media_type), media_type)
    assert isinstance(parsed, ImageIndex)
    return parsed


@pytest.mark.parametrize(("want", "expected"), [
    (None, AMD64),
    (Platform("linux", "amd64"), AMD64),
    (Platform("linux", "arm64"), ARM64),
    (Platform("linux", "arm64", "v8"), ARM64),
    (Platform("linux", "arm", "v7"), ARMV7),
    (Platform("linux", "arm"), ARMV7),
])
def test_select_platform(want: Platform | None, expected: object) -> None:
    index = _index(AMD64, ARM64, ARMV7, extra=[ATTEST])
    assert select_platform(index, want).digest == expected.manifest_digest  # type: ignore[attr-defined]


def test_select_platform_docker_manifest_list() -> None:
    index = _index(AMD64, ARM64, media_type=DOCKER_LIST)
    assert select_platform(index, Platform("linux", "arm64")).digest == ARM64.manifest_digest


def test_no_matching_platform_lists_available() -> None:
    index = _index(AMD64, ARM64, extra=[ATTEST])
    with pytest.raises(SourceError, match=r"linux/s390x.*available: linux/amd64, linux/arm64/v8$"):
        select_platform(index, Platform("linux", "s390x"))


def test_variant_mismatch_is_no_match() -> None:
    with pytest.raises(SourceError, match="available: linux/arm/v7"):
        select_platform(_index(ARMV7), Platform("linux", "arm", "v6"))


def test_single_entry_without_platform_is_taken() -> None:
    entry = {"mediaType": AMD64.manifest_media_type, "digest": AMD64.manifest_digest, "size": 1}
    index = parse_manifest(index_bytes([entry]))
    assert isinstance(index, ImageIndex)
    assert select_platform(index, Platform("linux", "arm64")).digest == AMD64.manifest_digest


@pytest.mark.parametrize(("have", "want", "ok"), [
    (Platform("linux", "arm64", ""), Platform("linux", "arm64", "v8"), True),
    (Platform("linux", "arm64", "v8"), Platform("linux", "arm64", ""), True),
    (Platform("linux", "arm", "v6"), Platform("linux", "arm", "v7"), False),
    (Platform("windows", "amd64"), Platform("linux", "amd64"), False),
])
def test_platform_matches(have: Platform, want: Platform, ok: bool) -> None:
    assert platform_matches(have, want) is ok


def test_resolve_nested_index() -> None:
    inner = index_bytes([AMD64.descriptor(), ARM64.descriptor()])
    outer = parse_manifest(index_bytes([{"mediaType": OCI_INDEX, "digest": sha256_digest(inner),
                                         "size": len(inner)}]))
    blobs = {sha256_digest(inner): inner, AMD64.manifest_digest: AMD64.manifest,
             ARM64.manifest_digest: ARM64.manifest}

    def fetch(desc: object) -> tuple[bytes, str]:
        return blobs[desc.digest], desc.media_type  # type: ignore[attr-defined]

    resolved = resolve_image(outer, "sha256:" + "0" * 64, fetch, Platform("linux", "arm64"))
    assert resolved.digest == ARM64.manifest_digest
    assert resolved.top_digest == "sha256:" + "0" * 64


@pytest.mark.parametrize("media_type", [
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.cncf.helm.chart.v1+json",
])
def test_unknown_manifest_media_type(media_type: str) -> None:
    with pytest.raises(SourceError, match="unsupported manifest media type"):
        parse_manifest(b'{"schemaVersion": 1}', media_type)


def test_schema1_sniffed_from_body() -> None:
    assert "v1" in sniff_media_type(b'{"schemaVersion": 1, "fsLayers": []}', "application/json")
    with pytest.raises(SourceError, match=r"manifest\.v1"):
        parse_manifest(b'{"schemaVersion": 1, "fsLayers": []}', "application/json")


def test_unknown_layer_and_config_media_types() -> None:
    doc = json.loads(AMD64.manifest)
    doc["layers"][0]["mediaType"] = "application/x-weird"
    with pytest.raises(SourceError, match="unsupported layer media type 'application/x-weird'"):
        parse_manifest(dumps(doc))
    doc = json.loads(AMD64.manifest)
    doc["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"
    with pytest.raises(SourceError, match="not a container image"):
        parse_manifest(dumps(doc))


def test_served_type_disagreeing_with_body() -> None:
    with pytest.raises(SourceError, match="served as"):
        parse_manifest(AMD64.manifest, "application/vnd.docker.distribution.manifest.v2+json")


@pytest.mark.parametrize("bad", [b"not json", b"[]", b'{"schemaVersion":2,"layers":[],"config":{}}',
                                 b'{"mediaType":"application/vnd.oci.image.index.v1+json"}'])
def test_malformed_manifests(bad: bytes) -> None:
    with pytest.raises(SourceError):
        parse_manifest(bad, "application/vnd.oci.image.manifest.v1+json"
                       if b"index" not in bad else "")


def test_bad_digest_in_descriptor() -> None:
    doc = json.loads(AMD64.manifest)
    doc["layers"][0]["digest"] = "sha256:../../etc/passwd"
    with pytest.raises(SourceError, match="malformed"):
        parse_manifest(dumps(doc))


def test_layers_aligned_with_history_skipping_empty_layers() -> None:
    img = build_image([{"a": b"1"}, {"b": b"2"}], history=[
        {"created_by": "FROM scratch", "empty_layer": True},
        {"created_by": "ADD a"},
        {"created_by": "ENV X=1", "empty_layer": True},
        {"created_by": "ADD b"},
    ], labels={"k": "v"}, env=["A=1"])
    manifest = parse_manifest(img.manifest)
    assert isinstance(manifest, ImageManifest)
    config = parse_config(img.config)
    layers = build_layers(manifest.layers, config)
    assert [la.created_by for la in layers] == ["ADD a", "ADD b"]
    assert [la.diff_id for la in layers] == [la.diff_id for la in img.layers]
    assert [la.digest for la in layers] == [la.digest for la in img.layers]
    assert layers[0].size == len(img.layers[0].blob)
    assert config.labels == (("k", "v"),) and config.env == ("A=1",)
    assert config.platform == Platform("linux", "amd64")


def test_layer_count_mismatch() -> None:
    img = build_image([{"a": b"1"}])
    manifest = parse_manifest(img.manifest)
    assert isinstance(manifest, ImageManifest)
    config = parse_config(build_image([{"a": b"1"}, {"b": b"2"}]).config)
    with pytest.raises(SourceError, match="1 layers but the config has 2"):
        build_layers(manifest.layers, config)


def test_verify_bytes() -> None:
    assert verify_bytes(b"x", "sha256:" + hashlib.sha256(b"x").hexdigest(), "blob") == b"x"
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        verify_bytes(b"y", "sha256:" + hashlib.sha256(b"x").hexdigest(), "blob")
    with pytest.raises(DigestMismatch, match="expected 5"):
        verify_bytes(b"y", "sha256:" + "0" * 64, "blob", size=5)
