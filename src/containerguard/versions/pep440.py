"""PyPI versions, ordered by PEP 440 through ``packaging.version`` (the reference implementation).

Anything :class:`packaging.version.Version` rejects (the old ``LegacyVersion`` forms such as
``2.0-foo-bar`` or ``latest``) raises :class:`VersionError`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from packaging.version import InvalidVersion, Version

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme


@lru_cache(maxsize=65536)
def parse(version: str) -> Version:
    """The PEP 440 version; VersionError when not valid."""
    try:
        return Version(version)
    except InvalidVersion as exc:
        raise VersionError(f"invalid PEP 440 version {version!r}") from exc


@register("version-scheme")
class Pep440Version(VersionScheme):
    """PEP 440 ordering (PyPI)."""

    name: ClassVar[str] = "pep440"
    ecosystems: ClassVar[tuple[str, ...]] = ("PyPI",)

    def compare(self, a: str, b: str) -> int:
        """PEP 440 precedence: epochs, release, pre/post/dev, local versions."""
        va, vb = parse(a), parse(b)
        return (va > vb) - (va < vb)
