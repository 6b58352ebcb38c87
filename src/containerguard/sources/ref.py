"""Turn a REF string into the image source that reads it."""

from __future__ import annotations

from containerguard.errors import ConfigError
from containerguard.registry import load_plugins, plugins
from containerguard.sources.base import ImageSource, SourceOptions

REGISTRY = "registry"


def split_ref(ref: str) -> tuple[str, str]:
    """Split ``prefix:rest`` for known source prefixes; bare refs go to the registry source."""
    load_plugins("containerguard.sources")
    prefix, sep, rest = ref.partition(":")
    if sep and prefix in plugins("source") and prefix != REGISTRY:
        return prefix, rest
    return REGISTRY, ref


def open_source(ref: str, options: SourceOptions | None = None) -> ImageSource:
    """The source for ``ref`` (``docker-archive:PATH``, ``oci:PATH[:TAG]``, ``dir:PATH``, ``docker:NAME``,
    or a registry reference)."""
    if not ref.strip():
        raise ConfigError("empty image reference")
    prefix, rest = split_ref(ref)
    if not rest:
        raise ConfigError(f"image reference {ref!r} names no image after '{prefix}:'")
    source_cls: type[ImageSource] | None = plugins("source").get(prefix)
    if source_cls is None:
        raise ConfigError(f"no image source for {ref!r}")
    return source_cls.from_ref(rest, options or SourceOptions())
