"""Manifest, index and image-config parsing shared by the registry, OCI-layout and archive sources.

Nothing here does I/O: callers hand in bytes (already digest-verified) and a ``fetch`` callback
for the child manifests of an index.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from containerguard.errors import DigestMismatch, SourceError
from containerguard.models.artifact import ImageMetadata, Layer, Platform
from containerguard.sources.verify import hasher_for

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

IMAGE_MANIFEST_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
INDEX_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
MANIFEST_TYPES = IMAGE_MANIFEST_TYPES | INDEX_TYPES
ACCEPT_MANIFESTS = ", ".join(sorted(MANIFEST_TYPES))

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
CONFIG_TYPES = frozenset({DOCKER_CONFIG, OCI_CONFIG})

DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_TYPES = frozenset({
    DOCKER_LAYER_TAR,
    DOCKER_LAYER_GZIP,
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    OCI_LAYER_TAR,
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
})

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""Largest manifest or index read (the distribution spec's own limit)."""
MAX_CONFIG_BYTES = 64 * 1024 * 1024
"""Largest image config read: it is held in memory."""
MAX_INDEX_DEPTH = 4
"""How deep nested indexes are followed."""

_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
# Attestation manifests (buildx provenance, SBOMs) sit in indexes with this platform.
_UNKNOWN_OS = "unknown"
DEFAULT_PLATFORM = Platform()


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: what a manifest or index says about a blob."""

    media_type: str
    digest: str
    size: int = -1
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()
    urls: tuple[str, ...] = ()

    def annotation(self, key: str) -> str:
        """The value of annotation ``key``, or an empty string."""
        return dict(self.annotations).get(key, "")


@dataclass(frozen=True)
class ImageManifest:
    """A single-platform image manifest."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class ImageIndex:
    """A manifest list / image index."""

    media_type: str
    manifests: tuple[Descriptor, ...]


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the config's history."""

    created_by: str = ""
    empty_layer: bool = False


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config a scan needs."""

    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...] = ()
    platform: Platform = field(default_factory=Platform)
    created: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    env: tuple[str, ...] = ()


def check_digest(digest: str, what: str = "digest") -> str:
    """``digest`` if it is a well-formed ``algo:hex``; a :class:`SourceError` otherwise."""
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise SourceError(f"malformed {what} {digest!r}")
    return digest


def _load_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise SourceError(f"{what} is not a JSON object")
    return doc


def _platform(raw: Any) -> Platform | None:
    if not isinstance(raw, dict):
        return None
    os_name, arch = raw.get("os"), raw.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        return None
    variant = raw.get("variant")
    return Platform(os_name, arch, variant if isinstance(variant, str) else "")


def _str_pairs(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in raw.items()))


def parse_descriptor(raw: Any, what: str) -> Descriptor:
    """A descriptor from its JSON object; malformed ones are a :class:`SourceError`."""
    if not isinstance(raw, dict):
        raise SourceError(f"{what}: descriptor is not an object")
    media_type = raw.get("mediaType", "")
    size = raw.get("size", -1)
    urls = raw.get("urls") or ()
    if not isinstance(media_type, str) or not isinstance(size, int) or isinstance(size, bool):
        raise SourceError(f"{what}: malformed descriptor")
    return Descriptor(
        media_type=media_type,
        digest=check_digest(raw.get("digest", ""), f"{what} digest"),
        size=size,
        platform=_platform(raw.get("platform")),
        annotations=_str_pairs(raw.get("annotations")),
        urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else (),
    )


def sniff_media_type(data: bytes, declared: str = "") -> str:
    """The manifest media type: the declared one (e.g. Content-Type) unless generic, else the
    document's own ``mediaType``, else guessed from its shape (OCI allows omitting it)."""
    declared = declared.split(";")[0].strip()
    if declared and declared not in ("application/json", "text/plain", "application/octet-stream"):
        return declared
    doc = _load_json(data, "manifest")
    media_type = doc.get("mediaType")
    if isinstance(media_type, str) and media_type:
        return media_type
    if doc.get("schemaVersion") == 1:
        return "application/vnd.docker.distribution.manifest.v1+json"
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc and "layers" in doc:
        return OCI_MANIFEST
    return declared or "unknown"


def parse_manifest(data: bytes, media_type: str = "") -> ImageManifest | ImageIndex:
    """Parse an image manifest or an index; unsupported media types are a :class:`SourceError`."""
    media_type = sniff_media_type(data, media_type)
    if media_type not in MANIFEST_TYPES:
        raise SourceError(f"unsupported manifest media type {media_type!r}")
    doc = _load_json(data, "manifest")
    inner = doc.get("mediaType")
    if isinstance(inner, str) and inner and inner != media_type:
        raise SourceError(f"manifest says media type {inner!r} but was served as {media_type!r}")
    if media_type in INDEX_TYPES:
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise SourceError("image index has no manifests list")
        return ImageIndex(media_type, tuple(parse_descriptor(e, "index entry") for e in entries))
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise SourceError("image manifest has no layers list")
    config = parse_descriptor(doc.get("config"), "manifest config")
    if config.media_type not in CONFIG_TYPES:
        raise SourceError(f"not a container image: unsupported config media type {config.media_type!r}")
    descs = tuple(parse_descriptor(x, "manifest layer") for x in layers)
    for desc in descs:
        if desc.media_type not in LAYER_TYPES:
            raise SourceError(f"unsupported layer media type {desc.media_type!r}")
    return ImageManifest(media_type, config, descs)


def parse_config(data: bytes) -> ImageConfig:
    """Parse an image config (Docker or OCI, same shape)."""
    doc = _load_json(data, "image config")
    rootfs = doc.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise SourceError("image config has no rootfs.diff_ids")
    history: list[HistoryEntry] = []
    raw_history = doc.get("history")
    for item in raw_history if isinstance(raw_history, list) else []:
        if isinstance(item, dict):
            created_by = item.get("created_by")
            history.append(HistoryEntry(created_by if isinstance(created_by, str) else "",
                                        item.get("empty_layer") is True))
    inner = doc.get("config")
    inner = inner if isinstance(inner, dict) else {}
    env = inner.get("Env")
    created = doc.get("created")
    return ImageConfig(
        diff_ids=tuple(check_digest(d, "diff_id") for d in diff_ids),
        history=tuple(history),
        platform=_platform(doc) or Platform(),
        created=created if isinstance(created, str) else "",
        labels=_str_pairs(inner.get("Labels")),
        env=tuple(e for e in env if isinstance(e, str)) if isinstance(env, list) else (),
    )


def layer_history(config: ImageConfig) -> list[str]:
    """``created_by`` of each non-empty history entry, aligned with ``diff_ids`` (Docker's rule)."""
    return [h.created_by for h in config.history if not h.empty_layer]


def build_layers(descriptors: Sequence[Descriptor], config: ImageConfig) -> tuple[Layer, ...]:
    """Join a manifest's layer descriptors with the config's diff_ids and history."""
    if len(descriptors) != len(config.diff_ids):
        raise SourceError(f"manifest lists {len(descriptors)} layers but the config has "
                          f"{len(config.diff_ids)} diff_ids")
    history = layer_history(config)
    # A history that does not line up with the layers says nothing reliable about any of them.
    if len(history) != len(descriptors):
        history = [""] * len(descriptors)
    return tuple(
        Layer(digest=d.digest, diff_id=diff_id, media_type=d.media_type, size=max(d.size, 0),
              created_by=created_by)
        for d, diff_id, created_by in zip(descriptors, config.diff_ids, history, strict=True)
    )


def _norm_variant(p: Platform) -> str:
    # arm64 images usually omit their (only) variant v8; containerd treats "" and "v8" alike.
    if p.architecture == "arm64" and p.variant in ("", "v8"):
        return "v8"
    return p.variant


def platform_matches(have: Platform, want: Platform) -> bool:
    """Whether an image for ``have`` serves a request for ``want`` (want's empty variant: any)."""
    if have.os != want.os or have.architecture != want.architecture:
        return False
    return not want.variant or _norm_variant(have) == _norm_variant(want)


def select_platform(index: ImageIndex, want: Platform | None) -> Descriptor:
    """The index entry for ``want`` (default linux/amd64); a :class:`SourceError` listing the
    available platforms when none matches. An index with a single entry and no platform
    information is taken as is."""
    entries = [d for d in index.manifests if d.media_type in MANIFEST_TYPES]
    candidates = [d for d in entries if d.platform is None or d.platform.os != _UNKNOWN_OS]
    if len(candidates) == 1 and candidates[0].platform is None:
        return candidates[0]
    target = want or DEFAULT_PLATFORM
    matches = [d for d in candidates if d.platform is not None and platform_matches(d.platform, target)]
    if matches:
        # Prefer the exact variant (or none) over "any variant", then the index's own order.
        exact = [d for d in matches if d.platform is not None
                 and _norm_variant(d.platform) == _norm_variant(target)]
        return (exact or matches)[0]
    if want is None and len(candidates) == 1:
        return candidates[0]
    available = sorted({str(d.platform) for d in candidates if d.platform is not None})
    raise SourceError(f"no image for platform {target} in the index; available: "
                      f"{', '.join(available) or 'none declared'}")


def list_platforms(index: ImageIndex) -> list[Platform]:
    """The platforms an index declares (attestation entries left out)."""
    return [d.platform for d in index.manifests
            if d.platform is not None and d.platform.os != _UNKNOWN_OS]


FetchManifest = Callable[[Descriptor], tuple[bytes, str]]
"""Fetch (and verify) the manifest a descriptor names; returns its bytes and media type."""


@dataclass(frozen=True)
class Resolved:
    """A reference resolved down to one image manifest."""

    manifest: ImageManifest
    digest: str
    """Digest of the image manifest itself."""
    top_digest: str
    """Digest of what the reference named (the index for multi-platform images)."""


def resolve_image(top: ImageManifest | ImageIndex, top_digest: str, fetch: FetchManifest,
                  want: Platform | None) -> Resolved:
    """Walk from a manifest or index down to the image manifest for ``want``."""
    current: ImageManifest | ImageIndex = top
    digest = top_digest
    for _ in range(MAX_INDEX_DEPTH + 1):
        if isinstance(current, ImageManifest):
            return Resolved(current, digest, top_digest)
        desc = select_platform(current, want)
        data, media_type = fetch(desc)
        current = parse_manifest(data, media_type or desc.media_type)
        digest = desc.digest
    raise SourceError(f"image indexes nested deeper than {MAX_INDEX_DEPTH}")


def verify_bytes(data: bytes, digest: str, what: str, size: int = -1) -> bytes:
    """``data`` if it hashes to ``digest`` (and has ``size`` bytes when known); else DigestMismatch."""
    if size >= 0 and len(data) != size:
        raise DigestMismatch(f"{what} {digest} is {len(data)} bytes, expected {size}")
    hasher = hasher_for(digest)
    hasher.update(data)
    got = f"{digest.split(':')[0]}:{hasher.hexdigest()}"
    if got != digest:
        raise DigestMismatch(f"{what} digest mismatch: expected {digest}, got {got}")
    return data


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_metadata(*, name: str, source: str, manifest: ImageManifest, config: ImageConfig,
                   manifest_digest: str = "", repo_tags: Sequence[str] = (),
                   repo_digests: Sequence[str] = ()) -> ImageMetadata:
    """The :class:`ImageMetadata` of a resolved image."""
    return ImageMetadata(
        name=name, source=source, layers=build_layers(manifest.layers, config),
        manifest_digest=manifest_digest, config_digest=manifest.config.digest,
        repo_tags=tuple(repo_tags), repo_digests=tuple(repo_digests), platform=config.platform,
        created=config.created, labels=config.labels, env=config.env,
    )
