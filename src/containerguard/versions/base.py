"""The version scheme plugin interface and lookup by OSV ecosystem."""

from __future__ import annotations

import importlib
import sys
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


MODULE_HINTS = {"Debian": "deb", "Ubuntu": "deb", "PyPI": "pep440", "npm": "semver", "crates.io": "semver",
                "Go": "go", "Alpine": "apk", "Maven": "maven", "RubyGems": "gem", "NuGet": "nuget",
                "Packagist": "composer"}
"""The scheme module of the common ecosystems, imported first so that a scan imports the schemes it
uses rather than all of them. Only a fast path: an ecosystem the hinted module does not serve (or one
not listed) loads every scheme plugin, so a new scheme needs no entry here."""


def _registered(module: str) -> dict[str, VersionScheme]:
    """The schemes registered so far, after importing ``module`` of this package if it exists."""
    qualified = f"{__package__}.{module}"
    if qualified not in sys.modules:
        try:
            importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise
    return {name: cls() for name, cls in plugins("version-scheme").items()}


def scheme_named(name: str) -> VersionScheme | None:
    """The scheme called ``name`` (``deb``, ``semver``…), or None."""
    return _registered(name).get(name) or schemes().get(name)


def _serving(base: str, candidates: dict[str, VersionScheme]) -> VersionScheme | None:
    return next((s for s in candidates.values() if base in s.ecosystems), None)


def scheme_for_ecosystem(ecosystem: str) -> VersionScheme:
    """The scheme for an OSV ecosystem such as ``Debian:12`` or ``PyPI``; VersionError when unknown."""
    base = ecosystem.split(":", 1)[0]
    hint = MODULE_HINTS.get(base)
    if hint:
        scheme = _serving(base, _registered(hint))
        if scheme is not None:
            return scheme
    scheme = _serving(base, schemes())
    if scheme is not None:
        return scheme
    raise VersionError(f"no version scheme for ecosystem {ecosystem!r}")
