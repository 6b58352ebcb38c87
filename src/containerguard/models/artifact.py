"""What an image is made of: its layers and its metadata."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    """One layer of an image, as named by its manifest and config."""

    digest: str
    """Digest of the blob as stored (compressed), e.g. ``sha256:…``; for ``dir:`` a synthetic id."""
    diff_id: str
    """Digest of the uncompressed tar (from the image config); the layer-cache key."""
    media_type: str = ""
    size: int = 0
    created_by: str = ""
    """The history line that built this layer, when known."""


@dataclass(frozen=True)
class Platform:
    """An image platform, e.g. linux/amd64 or linux/arm64/v8."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]``."""
        parts = text.strip().split("/")
        if len(parts) < 2 or not all(parts):
            raise ValueError(f"platform must be os/arch[/variant], got {text!r}")
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")


@dataclass(frozen=True)
class ImageMetadata:
    """Everything a source knows of an image before its layers are read."""

    name: str
    """The reference as the user gave it."""
    source: str
    """Source kind: registry, docker-archive, oci, dir, docker."""
    layers: tuple[Layer, ...]
    manifest_digest: str = ""
    config_digest: str = ""
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    platform: Platform = field(default_factory=Platform)
    created: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    env: tuple[str, ...] = ()
