"""The collector plugin interface.

A collector declares, by path (and file mode), which files it needs; the layer walker reads each
layer once and hands it only those files' bytes. Collectors never do I/O of their own.
"""

from __future__ import annotations

import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from containerguard.models.sbom import Collected, Location, Package, Skipped
from containerguard.registry import load_plugins, plugins


@dataclass(frozen=True)
class FileInfo:
    """A regular file in a layer, as the walker sees it before reading it."""

    path: str
    """Normalised path relative to the image root, no leading slash (``usr/lib/os-release``)."""
    size: int
    mode: int
    layer_digest: str = ""

    @property
    def executable(self) -> bool:
        """Any execute bit set."""
        return bool(self.mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


class Collector(ABC):
    """Finds packages (or the distro) in the files it asked for."""

    name: ClassVar[str]
    """Stable plugin name, e.g. ``dpkg``."""
    version: ClassVar[int] = 1
    """Bump when output changes: it is part of the layer-cache key."""
    ecosystems: ClassVar[tuple[str, ...]] = ()
    """purl types this collector emits."""
    tags: ClassVar[tuple[str, ...]] = ()
    """Kinds of input, e.g. ``lockfile`` (declared, not installed, packages: used for directory scans
    only, as image scanners do, so that installed packages are not counted twice)."""

    @abstractmethod
    def required(self, info: FileInfo) -> bool:
        """Whether this collector wants the bytes of this file."""

    @abstractmethod
    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Parse one file. Raise :class:`~containerguard.errors.CollectError` on bad input; the
        walker turns that into a :class:`Skipped` entry."""

    def location(self, info: FileInfo) -> tuple[Location, ...]:
        """The location tuple for packages found in ``info``."""
        return (Location(path="/" + info.path, layer_digest=info.layer_digest),)

    def skipped(self, info: FileInfo, reason: str) -> Collected:
        """A result saying this file was not inventoried, and why."""
        return Collected(skipped=(Skipped("/" + info.path, reason, info.layer_digest),))

    def packages(self, pkgs: list[Package]) -> Collected:
        """Wrap found packages."""
        return Collected(packages=tuple(pkgs))


def all_collectors(exclude_tags: frozenset[str] = frozenset()) -> list[Collector]:
    """One instance of every registered collector (minus those tagged ``exclude_tags``), by name."""
    load_plugins("containerguard.collectors")
    return [cls() for _, cls in sorted(plugins("collector").items()) if not exclude_tags & set(cls.tags)]


def collectors_key(collectors: list[Collector]) -> str:
    """A string naming every collector and its version (part of the layer-cache key)."""
    return ",".join(f"{c.name}@{c.version}" for c in sorted(collectors, key=lambda c: c.name))
