"""The version scheme plugin interface and lookup by OSV ecosystem."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import load_plugins, plugins


class VersionScheme(ABC):
    """Compares versions exactly as one ecosystem defines it."""

    name: ClassVar[str]
    """``deb``, ``rpm``, ``apk``, ``pep440``, ``semver``, ``go``, ``maven``, ``gem``, ``nuget``, ``composer``."""
    ecosystems: ClassVar[tuple[str, ...]] = ()
    """OSV ecosystem names (the part before the first ``:``) this scheme serves, e.g. ``("Debian", "Ubuntu")``."""

    @abstractmethod
    def compare(self, a: str, b: str) -> int:
        """Negative, zero or positive as ``a`` sorts before, equal to or after ``b``.
        Raise :class:`VersionError` when either is not a valid version of the scheme."""

    def valid(self, version: str) -> bool:
        """Whether ``version`` parses in this scheme."""
        try:
            self.compare(version, version)
        except VersionError:
            return False
        return True


def schemes() -> dict[str, VersionScheme]:
    """Every registered scheme, by name."""
    load_plugins("containerguard.versions")
    return {name: cls() for name, cls in plugins("version-scheme").items()}


def scheme_for_ecosystem(ecosystem: str) -> VersionScheme:
    """The scheme for an OSV ecosystem such as ``Debian:12`` or ``PyPI``; VersionError when unknown."""
    base = ecosystem.split(":", 1)[0]
    for scheme in schemes().values():
        if base in scheme.ecosystems:
            return scheme
    raise VersionError(f"no version scheme for ecosystem {ecosystem!r}")
