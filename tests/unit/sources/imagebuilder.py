"""Build tiny, real container images for tests: OCI layouts (dir or tar) and ``docker save`` tars.

Everything is deterministic (fixed mtimes, sorted names) so digests are stable across runs.
Usage::

    img = build_image([{"etc/os-release": b"ID=debian\\n"}, {"app/x": b"1"}])
    layout = OciLayout(tmp_path / "layout")
    layout.tag(layout.add_image(img), "1.0")
    layout.write()
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REF_NAME = "org.opencontainers.image.ref.name"

Files = dict[str, bytes]


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(doc: Any) -> bytes:
    """Canonical-ish JSON bytes."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def layer_tar(files: Files) -> bytes:
    """An uncompressed layer tar holding ``files`` (parent directories added)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(files[path]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[path]))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """gzip with a fixed mtime."""
    return gzip.compress(data, mtime=0)


@dataclass
class BuiltLayer:
    """One layer: the blob as stored and its uncompressed tar."""

    tar: bytes
    blob: bytes
    media_type: str

    @property
    def digest(self) -> str:
        """Blob digest."""
        return sha256(self.blob)

    @property
    def diff_id(self) -> str:
        """Uncompressed tar digest."""
        return sha256(self.tar)


@dataclass
class BuiltImage:
    """An image: config + layers + manifest, all as bytes."""

    config: bytes
    layers: list[BuiltLayer]
    manifest: bytes
    platform: dict[str, str] = field(default_factory=dict)
    manifest_media_type: str = OCI_MANIFEST

    @property
    def config_digest(self) -> str:
        """Config blob digest."""
        return sha256(self.config)

    @property
    def manifest_digest(self) -> str:
        """Manifest digest."""
        return sha256(self.manifest)

    def descriptor(self, **annotations: str) -> dict[str, Any]:
        """The manifest's descriptor, with its platform."""
        desc: dict[str, Any] = {"mediaType": self.manifest_media_type, "digest": self.manifest_digest,
                                "size": len(self.manifest), "platform": dict(self.platform)}
        if annotations:
            desc["annotations"] = annotations
        return desc


def build_image(layers: list[Files], *, os: str = "linux", arch: str = "amd64", variant: str = "",
                compress: bool = True, docker_types: bool = False, history: list[dict[str, Any]] | None = None,
                labels: dict[str, str] | None = None, env: list[str] | None = None,
                layer_media_type: str = "") -> BuiltImage:
    """An image whose layers hold ``layers``; ``history`` defaults to one ``created_by`` per layer."""
    built = []
    for files in layers:
        tar = layer_tar(files)
        if docker_types:
            media = DOCKER_LAYER_GZIP if compress else "application/vnd.docker.image.rootfs.diff.tar"
        else:
            media = OCI_LAYER_GZIP if compress else OCI_LAYER_TAR
        built.append(BuiltLayer(tar, gzip_bytes(tar) if compress else tar, layer_media_type or media))
    platform = {"os": os, "architecture": arch}
    if variant:
        platform["variant"] = variant
    config_doc: dict[str, Any] = {
        **platform,
        "created": "2024-01-02T03:04:05Z",
        "config": {"Env": env or ["PATH=/usr/bin"], "Labels": labels or {}},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in built]},
        "history": history if history is not None else [
            {"created_by": f"step {i}"} for i in range(len(built))],
    }
    config = dumps(config_doc)
    manifest_type = DOCKER_MANIFEST if docker_types else OCI_MANIFEST
    manifest = dumps({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": DOCKER_CONFIG if docker_types else OCI_CONFIG,
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": len(layer.blob)}
                   for layer in built],
    })
    return BuiltImage(config, built, manifest, platform, manifest_type)


def index_bytes(entries: list[dict[str, Any]], media_type: str = OCI_INDEX) -> bytes:
    """An image index / manifest list over ``entries`` (descriptors)."""
    return dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})


class OciLayout:
    """Writes an OCI image layout directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        self.entries: list[dict[str, Any]] = []

    def add_blob(self, data: bytes) -> str:
        """Store a blob; returns its digest."""
        digest = sha256(data)
        (self.root / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
        return digest

    def add_image(self, image: BuiltImage) -> dict[str, Any]:
        """Store an image's blobs; returns its manifest descriptor."""
        self.add_blob(image.config)
        for layer in image.layers:
            self.add_blob(layer.blob)
        self.add_blob(image.manifest)
        return image.descriptor()

    def add_index(self, images: list[BuiltImage], media_type: str = OCI_INDEX,
                  extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Store a multi-platform index over ``images``; returns the index's descriptor."""
        entries = [self.add_image(img) for img in images] + (extra or [])
        data = index_bytes(entries, media_type)
        self.add_blob(data)
        return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}

    def tag(self, desc: dict[str, Any], tag: str = "") -> None:
        """List ``desc`` in index.json, with a ref.name annotation when ``tag`` is given."""
        entry = dict(desc)
        if tag:
            entry["annotations"] = {REF_NAME: tag}
        self.entries.append(entry)

    def write(self) -> Path:
        """Write index.json; returns the layout root."""
        (self.root / "index.json").write_bytes(index_bytes(self.entries))
        return self.root


def tar_directory(root: Path, out: Path) -> Path:
    """Tar a directory's contents (names relative to it) into ``out``."""
    with tarfile.open(out, "w") as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
    return out


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add a regular file member."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), 0
    tar.addfile(info, io.BytesIO(data))


def add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    """Add a symlink member."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    tar.addfile(info)


def write_docker_save(out: Path, images: list[tuple[BuiltImage, list[str]]], *, oci_style: bool = False,
                      extra: Files | None = None, manifest_override: list[dict[str, Any]] | None = None) -> Path:
    """A ``docker save`` tar: legacy (``<id>/layer.tar``, duplicate layers as symlinks) or Docker 25+
    (``blobs/sha256/…`` plus index.json). Layers are stored uncompressed, as docker save does."""
    manifest: list[dict[str, Any]] = []
    written: set[str] = set()
    with tarfile.open(out, "w") as tar:
        def put(name: str, data: bytes) -> None:
            if name not in written:
                written.add(name)
                add_member(tar, name, data)

        index_entries = []
        for image, tags in images:
            paths = []
            if oci_style:
                put(f"blobs/sha256/{image.config_digest.split(':')[1]}", image.config)
                config_path = f"blobs/sha256/{image.config_digest.split(':')[1]}"
                for layer in image.layers:
                    path = f"blobs/sha256/{layer.diff_id.split(':')[1]}"
                    put(path, layer.tar)
                    paths.append(path)
                # Docker 25+ also writes an OCI manifest over the uncompressed layers.
                oci_manifest = dumps({
                    "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, "digest": image.config_digest,
                               "size": len(image.config)},
                    "layers": [{"mediaType": OCI_LAYER_TAR, "digest": la.diff_id, "size": len(la.tar)}
                               for la in image.layers]})
                put(f"blobs/sha256/{sha256(oci_manifest).split(':')[1]}", oci_manifest)
                index_entries.append({"mediaType": OCI_MANIFEST, "digest": sha256(oci_manifest),
                                      "size": len(oci_manifest)})
            else:
                config_path = f"{image.config_digest.split(':')[1]}.json"
                put(config_path, image.config)
                first_seen: dict[str, str] = {}
                for i, layer in enumerate(image.layers):
                    layer_id = hashlib.sha256(f"{image.config_digest}/{i}".encode()).hexdigest()
                    path = f"{layer_id}/layer.tar"
                    if layer.diff_id in first_seen:
                        add_symlink(tar, path, f"../{first_seen[layer.diff_id]}")
                    else:
                        put(path, layer.tar)
                        first_seen[layer.diff_id] = path
                    paths.append(path)
            manifest.append({"Config": config_path, "RepoTags": tags or None, "Layers": paths})
        if oci_style:
            put("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            put("index.json", index_bytes(index_entries))
        for name, data in (extra or {}).items():
            put(name, data)
        put("manifest.json", dumps(manifest_override if manifest_override is not None else manifest))
    return out
