"""SemVer 2.0 versions (npm, crates.io, Hex, Pub, SwiftURL), with node-semver's precedence.

Syntax is node-semver's strict grammar (``semver.parse(v)`` without ``loose``): three numeric parts
without leading zeros, an optional ``-pre.release`` and ``+build``; surrounding whitespace and one
leading ``v`` are tolerated as node-semver does, and so is a leading ``=`` (as its loose mode and
``semver.clean`` do, since npm users write ``=1.2.3``). Build metadata never affects the order.
Loose-only forms (``01.2.3``, ``1.2.3beta``) raise :class:`VersionError`, as do parts above
JavaScript's ``Number.MAX_SAFE_INTEGER``, which node-semver rejects.

Pub (Dart) orders build metadata after the bare version; advisories never use it, so Pub shares
this scheme.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions._semver import compare_prerelease
from containerguard.versions.base import VersionScheme

_NUM = r"0|[1-9][0-9]*"
_PRE_ID = rf"(?:{_NUM}|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"=?v?({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?",
    re.ASCII,
)
_MAX_SAFE_INTEGER = 2**53 - 1
_MAX_LENGTH = 256

Parsed = tuple[int, int, int, tuple[str, ...]]


@lru_cache(maxsize=65536)
def parse(version: str) -> Parsed:
    """``(major, minor, patch, prerelease identifiers)``; VersionError when not SemVer."""
    text = version.strip()
    match = _SEMVER.fullmatch(text) if len(text) <= _MAX_LENGTH else None
    if not match:
        raise VersionError(f"invalid semantic version {version!r}")
    major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
    if max(major, minor, patch) > _MAX_SAFE_INTEGER:
        raise VersionError(f"semantic version {version!r} has a part above 2^53-1")
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return major, minor, patch, pre


@register("version-scheme")
class SemverVersion(VersionScheme):
    """SemVer 2.0 precedence (npm and the other SemVer ecosystems)."""

    name: ClassVar[str] = "semver"
    ecosystems: ClassVar[tuple[str, ...]] = ("npm", "crates.io", "Hex", "Pub", "SwiftURL")

    def compare(self, a: str, b: str) -> int:
        """Major, minor, patch numerically, then pre-release identifiers; build metadata ignored."""
        pa, pb = parse(a), parse(b)
        if pa[:3] != pb[:3]:
            return -1 if pa[:3] < pb[:3] else 1
        return compare_prerelease(pa[3], pb[3])
