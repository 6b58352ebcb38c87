"""Go module versions, ordered as ``golang.org/x/mod/semver``.

The leading ``v`` is optional (OSV ranges omit it; modules and binaries carry it). ``v1`` and
``v1.2`` are Go's shorthands for ``v1.0.0`` and ``v1.2.0``. Pseudo-versions
(``v0.0.0-20210101000000-abcdef123456``) are ordinary pre-releases, and ``+incompatible``, like any
build metadata, does not count. Go toolchain names as a binary reports them (``go1.19.8``,
``go1.21rc2``, ``go1.9beta1``) are mapped to the semver OSV uses for ``stdlib`` (``1.19.8``,
``1.21.0-rc.2``, ``1.9.0-beta.1``), the way govulncheck does.
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
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"v({_NUM})(?:\.({_NUM})(?:\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+({_ID}(?:\.{_ID})*))?)?)?",
    re.ASCII,
)
_GO_TAG = re.compile(r"go(\d+\.\d+)(\.\d+|)((beta|rc|-pre)(\d+))?", re.ASCII)

Parsed = tuple[int, int, int, tuple[str, ...]]


def go_tag_to_semver(tag: str) -> str:
    """``go1.21rc2`` -> ``v1.21.0-rc.2``; VersionError for anything that is not a Go release tag."""
    if tag == "go1":
        return "v1.0.0"
    match = _GO_TAG.fullmatch(tag)
    if not match or tag == "go1.0":
        raise VersionError(f"invalid Go toolchain version {tag!r}")
    version = "v" + match.group(1) + (match.group(2) or ".0")
    if match.group(3):
        kind = match.group(4)
        version += ("" if kind.startswith("-") else "-") + kind + "." + match.group(5)
    return version


@lru_cache(maxsize=65536)
def parse(version: str) -> Parsed:
    """``(major, minor, patch, prerelease identifiers)``; VersionError when Go would reject it."""
    text = version.strip()
    if text.startswith("go"):
        text = go_tag_to_semver(text)
    elif not text.startswith("v"):
        text = "v" + text
    match = _SEMVER.fullmatch(text)
    if not match:
        raise VersionError(f"invalid Go module version {version!r}")
    major, minor, patch = (int(match.group(i) or 0) for i in (1, 2, 3))
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return major, minor, patch, pre


@register("version-scheme")
class GoVersion(VersionScheme):
    """Go module version ordering (``golang.org/x/mod/semver.Compare``)."""

    name: ClassVar[str] = "go"
    ecosystems: ClassVar[tuple[str, ...]] = ("Go",)

    def compare(self, a: str, b: str) -> int:
        """Major, minor, patch, then pre-release (pseudo-versions included); build metadata ignored."""
        pa, pb = parse(a), parse(b)
        if pa[:3] != pb[:3]:
            return -1 if pa[:3] < pb[:3] else 1
        return compare_prerelease(pa[3], pb[3])
