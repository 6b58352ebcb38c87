"""One Settings object, read from the environment with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Limits:
    """Safety limits for reading hostile layers (decompression bombs, huge files)."""

    max_file_bytes: int = 512 * 1024 * 1024
    """Largest single file a collector may be handed (bytes, uncompressed)."""
    max_layer_bytes: int = 16 * 1024 * 1024 * 1024
    """Largest uncompressed layer (bytes)."""
    max_entries: int = 2_000_000
    """Most tar entries in one layer."""
    max_ratio: int = 200
    """Largest uncompressed/compressed ratio once a layer is past 64 MiB uncompressed."""
    max_nested_archive_depth: int = 4
    """How deep nested jars are opened."""


@dataclass(frozen=True)
class Settings:
    """Runtime settings: data home, limits and defaults."""

    home: Path = field(default_factory=lambda: Path(
        os.environ.get("CONTAINERGUARD_HOME", str(Path.home() / ".containerguard"))))
    limits: Limits = field(default_factory=lambda: Limits(
        max_file_bytes=_int_env("CONTAINERGUARD_MAX_FILE_BYTES", Limits.max_file_bytes),
        max_layer_bytes=_int_env("CONTAINERGUARD_MAX_LAYER_BYTES", Limits.max_layer_bytes),
        max_entries=_int_env("CONTAINERGUARD_MAX_ENTRIES", Limits.max_entries),
    ))

    @property
    def cache_dir(self) -> Path:
        """Where per-layer collector results are cached."""
        return self.home / "cache" / "layers"

    @property
    def blob_dir(self) -> Path:
        """Where downloaded registry blobs are kept while a scan runs."""
        return self.home / "cache" / "blobs"


def load_settings() -> Settings:
    """Settings from the environment."""
    return Settings()
