"""``docker-archive:PATH[:NAME|:@N]`` — a ``docker save`` tar, read in place.

Both layouts are read: the legacy one (``manifest.json``, ``<id>.json``, ``<id>/layer.tar``) and
Docker 25+'s OCI-style one (``blobs/sha256/<hex>`` named from ``manifest.json``). Layers are
verified against the digest in their path when it has one, else against their diff_id (legacy
``layer.tar`` files are uncompressed, so the diff_id is their digest).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, BinaryIO

from containerguard.errors import SourceError
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.registry import register
from containerguard.sources.base import ImageSource, SourceOptions
from containerguard.sources.filetree import FileTree, open_tree, safe_name
from containerguard.sources.imageref import same_image_name
from containerguard.sources.manifest import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_LAYER_TAR,
    IMAGE_MANIFEST_TYPES,
    INDEX_TYPES,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    Descriptor,
    ImageIndex,
    ImageManifest,
    check_digest,
    image_metadata,
    parse_config,
    parse_manifest,
    sha256_digest,
    verify_bytes,
)
from containerguard.sources.oci_layout import blob_path
from containerguard.sources.verify import verified

_BLOB_PATH = re.compile(r"^blobs/([a-z0-9]+)/([a-f0-9]{32,})$")
_LEGACY_CONFIG = re.compile(r"^([a-f0-9]{64})\.json$")
_ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"


def digest_in_path(path: str) -> str:
    """The digest a ``blobs/<algo>/<hex>`` or legacy ``<hex>.json`` path names, else ``""``."""
    if m := _BLOB_PATH.match(path):
        return f"{m.group(1)}:{m.group(2)}"
    if m := _LEGACY_CONFIG.match(path):
        return f"sha256:{m.group(1)}"
    return ""


def split_archive_ref(rest: str) -> tuple[Path, str]:
    """``PATH[:NAME|:@N]``: the first prefix ending at a ``:`` that exists is the path
    (as skopeo's ``docker-archive:path:ref``), the remainder picks the image."""
    whole = Path(rest).expanduser()
    if whole.exists():
        return whole, ""
    for i, ch in enumerate(rest):
        if ch == ":" and i > 0 and Path(rest[:i]).expanduser().exists():
            return Path(rest[:i]).expanduser(), rest[i + 1:]
    raise SourceError(f"docker-archive:{rest}: no such file")


def _str_list(raw: Any) -> list[str]:
    return [x for x in raw if isinstance(x, str)] if isinstance(raw, list) else []


def read_save_manifest(tree: FileTree) -> list[dict[str, Any]]:
    """``manifest.json`` of a ``docker save`` archive, entries checked for shape."""
    if not tree.exists("manifest.json"):
        raise SourceError(f"{tree.label}: not a docker save archive (no manifest.json)")
    try:
        doc = json.loads(tree.read("manifest.json", MAX_MANIFEST_BYTES))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{tree.label}: manifest.json is not JSON: {exc}") from exc
    if not isinstance(doc, list) or not doc:
        raise SourceError(f"{tree.label}: manifest.json lists no images")
    for entry in doc:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                or not isinstance(entry.get("Layers"), list):
            raise SourceError(f"{tree.label}: malformed manifest.json entry")
    return doc


def choose_entry(entries: list[dict[str, Any]], selector: str, label: str) -> dict[str, Any]:
    """The entry for ``selector`` (``@N`` or an image name), else the first."""
    if not selector:
        return entries[0]
    if selector.startswith("@"):
        try:
            return entries[int(selector[1:])]
        except (ValueError, IndexError):
            raise SourceError(f"{label}: no image {selector} (the archive holds {len(entries)})") from None
    for entry in entries:
        if any(same_image_name(tag, selector) for tag in _str_list(entry.get("RepoTags"))):
            return entry
    tags = sorted(t for e in entries for t in _str_list(e.get("RepoTags")))
    raise SourceError(f"{label}: no image named {selector!r}; tags: {', '.join(tags) or 'none'}")


def _sniff_layer_type(tree: FileTree, path: str) -> str:
    with tree.open(path) as stream:
        head = stream.read(4)
    if head.startswith(b"\x1f\x8b"):
        return DOCKER_LAYER_GZIP
    if head == b"\x28\xb5\x2f\xfd":
        return _ZSTD_LAYER
    return DOCKER_LAYER_TAR


@register("source", "docker-archive")
class DockerArchiveSource(ImageSource):
    """A ``docker save`` archive (tar file, or a directory it was unpacked to)."""

    prefix = "docker-archive"

    def __init__(self, tree: FileTree, ref: str, selector: str, options: SourceOptions,
                 source: str = "docker-archive") -> None:
        self.tree = tree
        self.ref = ref
        self.selector = selector
        self.options = options
        self.source = source
        self._metadata: ImageMetadata | None = None
        self._paths: dict[str, str] = {}

    @classmethod
    def from_ref(cls, rest: str, options: SourceOptions) -> DockerArchiveSource:
        """``rest`` is ``PATH``, ``PATH:NAME`` or ``PATH:@N``."""
        path, selector = split_archive_ref(rest)
        return cls(open_tree(path), f"docker-archive:{rest}", selector, options)

    def metadata(self) -> ImageMetadata:
        """Read manifest.json and the config; nothing is extracted."""
        if self._metadata is not None:
            return self._metadata
        label = self.tree.label
        entry = choose_entry(read_save_manifest(self.tree), self.selector, label)
        config_path = safe_name(entry["Config"], label)
        config_bytes = self.tree.read(config_path, MAX_CONFIG_BYTES)
        config_digest = digest_in_path(config_path)
        if config_digest:
            verify_bytes(config_bytes, config_digest, "image config")
        else:
            config_digest = sha256_digest(config_bytes)
        config = parse_config(config_bytes)
        layer_paths = [safe_name(p, label) if isinstance(p, str) else "" for p in entry["Layers"]]
        if len(layer_paths) != len(config.diff_ids) or not all(layer_paths):
            raise SourceError(f"{label}: manifest.json lists {len(layer_paths)} layers but the "
                              f"config has {len(config.diff_ids)} diff_ids")
        descriptors = []
        for path, diff_id in zip(layer_paths, config.diff_ids, strict=True):
            digest = check_digest(digest_in_path(path) or diff_id, "layer digest")
            media_type = DOCKER_LAYER_TAR if digest == diff_id else _sniff_layer_type(self.tree, path)
            self._paths[digest] = path
            descriptors.append(Descriptor(media_type, digest, self.tree.size(path)))
        manifest = ImageManifest(DOCKER_CONFIG, Descriptor(DOCKER_CONFIG, config_digest),
                                 tuple(descriptors))
        self._metadata = image_metadata(
            name=self.ref, source=self.source, manifest=manifest, config=config,
            manifest_digest=self._manifest_digest(config_digest),
            repo_tags=_str_list(entry.get("RepoTags")))
        return self._metadata

    def _manifest_digest(self, config_digest: str) -> str:
        """Docker 25+ archives also hold OCI manifests: find the one naming our config."""
        if not self.tree.exists("index.json"):
            return ""
        try:
            top = parse_manifest(self.tree.read("index.json", MAX_MANIFEST_BYTES), "application/json")
            pending = list(top.manifests) if isinstance(top, ImageIndex) else []
            for _ in range(64):
                if not pending:
                    break
                desc = pending.pop(0)
                if desc.media_type not in IMAGE_MANIFEST_TYPES | INDEX_TYPES:
                    continue
                data = verify_bytes(self.tree.read(blob_path(desc.digest), MAX_MANIFEST_BYTES),
                                    desc.digest, "manifest", desc.size)
                doc = parse_manifest(data, desc.media_type)
                if isinstance(doc, ImageIndex):
                    pending.extend(doc.manifests)
                elif doc.config.digest == config_digest:
                    return desc.digest
        except SourceError:
            # Best effort: the manifest digest is informative only; manifest.json is authoritative.
            return ""
        return ""

    def open_blob(self, layer: Layer) -> BinaryIO:
        """The layer as stored in the archive, verified as it is read."""
        if not self._paths:
            self.metadata()
        path = self._paths.get(layer.digest)
        if path is None:
            raise SourceError(f"{self.tree.label}: no layer {layer.digest} in this archive")
        return verified(self.tree.open(path), layer.digest, self.tree.size(path), "layer")

    def close(self) -> None:
        """Release the archive."""
        self.tree.close()
