"""``oci:PATH[:TAG]`` — an OCI image layout, as a directory or a tar of one, read in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

from containerguard.errors import SourceError
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.registry import register
from containerguard.sources.base import ImageSource, SourceOptions
from containerguard.sources.filetree import FileTree, open_tree
from containerguard.sources.manifest import (
    MANIFEST_TYPES,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    REF_NAME_ANNOTATION,
    Descriptor,
    ImageIndex,
    image_metadata,
    parse_config,
    parse_manifest,
    resolve_image,
    verify_bytes,
)
from containerguard.sources.verify import verified

CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name"


def blob_path(digest: str) -> str:
    """Where a layout keeps the blob ``algo:hex`` (the digest is validated by the parser)."""
    algo, _, hexpart = digest.partition(":")
    return f"blobs/{algo}/{hexpart}"


def split_layout_ref(rest: str) -> tuple[Path, str]:
    """``PATH[:TAG]``: the longest existing path wins, so paths holding ``:`` still work."""
    path = Path(rest).expanduser()
    if path.exists():
        return path, ""
    head, sep, tag = rest.rpartition(":")
    if sep and head and Path(head).expanduser().exists():
        return Path(head).expanduser(), tag
    raise SourceError(f"oci:{rest}: no such OCI layout directory or archive")


def read_blob(tree: FileTree, desc: Descriptor, limit: int, what: str) -> bytes:
    """A small blob (manifest, config) read whole and verified against its descriptor."""
    return verify_bytes(tree.read(blob_path(desc.digest), limit), desc.digest, what, desc.size)


def read_index(tree: FileTree) -> ImageIndex:
    """The layout's ``index.json`` (checking ``oci-layout`` when present)."""
    if tree.exists("oci-layout"):
        try:
            marker = json.loads(tree.read("oci-layout", 64 * 1024))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"{tree.label}: oci-layout is not JSON") from exc
        version = marker.get("imageLayoutVersion", "") if isinstance(marker, dict) else ""
        if not isinstance(version, str) or not version.startswith("1."):
            raise SourceError(f"{tree.label}: unsupported OCI layout version {version!r}")
    if not tree.exists("index.json"):
        raise SourceError(f"{tree.label}: not an OCI layout (no index.json)")
    index = parse_manifest(tree.read("index.json", MAX_MANIFEST_BYTES), "application/json")
    if not isinstance(index, ImageIndex):
        raise SourceError(f"{tree.label}: index.json is not an image index")
    return index


def _names(desc: Descriptor) -> list[str]:
    return [n for n in (desc.annotation(REF_NAME_ANNOTATION), desc.annotation(CONTAINERD_NAME_ANNOTATION))
            if n]


def pick_entries(index: ImageIndex, tag: str, label: str) -> ImageIndex:
    """The top-level entries to resolve: those tagged ``tag``, or all of them when no tag is given
    and they are platforms of one image rather than several tagged images."""
    entries = [d for d in index.manifests if d.media_type in MANIFEST_TYPES]
    if tag:
        chosen = [d for d in entries if tag in _names(d)]
        if not chosen:
            tags = sorted({n for d in entries for n in _names(d)})
            raise SourceError(f"{label}: no image tagged {tag!r}; tags: {', '.join(tags) or 'none'}")
        return ImageIndex(index.media_type, tuple(chosen))
    ref_names = {d.annotation(REF_NAME_ANNOTATION) for d in entries}
    if len(entries) > 1 and len(ref_names) > 1:
        raise SourceError(f"{label} holds several images; pick one with oci:PATH:TAG "
                          f"(tags: {', '.join(sorted(t or '<untagged>' for t in ref_names))})")
    if not entries:
        raise SourceError(f"{label}: index.json lists no manifests")
    return ImageIndex(index.media_type, tuple(entries))


@register("source", "oci")
class OciLayoutSource(ImageSource):
    """An OCI image layout directory or tar; ``TAG`` matches the ``ref.name`` annotation."""

    prefix = "oci"

    def __init__(self, tree: FileTree, ref: str, tag: str, options: SourceOptions,
                 prefix: str = "oci") -> None:
        self.tree = tree
        self.ref = ref
        self.tag = tag
        self.options = options
        self._prefix = prefix
        self._metadata: ImageMetadata | None = None

    @classmethod
    def from_ref(cls, rest: str, options: SourceOptions) -> OciLayoutSource:
        """``rest`` is ``PATH[:TAG]``."""
        path, tag = split_layout_ref(rest)
        return cls(open_tree(path), f"oci:{rest}", tag, options)

    def _fetch(self, desc: Descriptor) -> tuple[bytes, str]:
        return read_blob(self.tree, desc, MAX_MANIFEST_BYTES, "manifest"), desc.media_type

    def metadata(self) -> ImageMetadata:
        """Resolve the tag and platform down to one image and read its config."""
        if self._metadata is not None:
            return self._metadata
        top = pick_entries(read_index(self.tree), self.tag, self.tree.label)
        # index.json has no digest of its own; the top digest is that of a single chosen entry.
        top_digest = top.manifests[0].digest if len(top.manifests) == 1 else ""
        resolved = resolve_image(top, top_digest, self._fetch, self.options.platform)
        config_desc = resolved.manifest.config
        config = parse_config(read_blob(self.tree, config_desc, MAX_CONFIG_BYTES, "image config"))
        names = sorted({n for d in top.manifests for n in _names(d)})
        self._metadata = image_metadata(
            name=self.ref, source=self._prefix, manifest=resolved.manifest, config=config,
            manifest_digest=resolved.digest, repo_tags=names)
        return self._metadata

    def blob_locator(self, layer: Layer) -> dict[str, object] | None:
        """The blob file (or its range in an uncompressed layout tar)."""
        where = self.tree.locate(blob_path(layer.digest))
        return None if where is None else {"path": where[0], "offset": where[1], "length": where[2]}

    def open_blob(self, layer: Layer) -> BinaryIO:
        """The layer blob, verified against its digest as it is read."""
        size = layer.size if layer.size > 0 else -1
        return verified(self.tree.open(blob_path(layer.digest)), layer.digest, size, "layer")

    def close(self) -> None:
        """Release the layout."""
        self.tree.close()
