"""NuGet package versions, ordered as NuGet.Versioning's ``VersionComparer.Default``.

``Major[.Minor[.Patch[.Revision]]][-label.label][+metadata]``: missing parts are zero, so ``1.0``,
``1.0.0`` and ``1.0.0.0`` are equal; a version with release labels sorts before the same version
without; labels compare left to right, numeric ones (``Int32.TryParse``) numerically and first,
others ordinal-case-insensitively; metadata is ignored.

Syntax follows ``NuGetVersion.TryParse`` for everything real packages use; .NET's
``System.Version`` would also take whitespace or a ``+`` sign inside a number, which is rejected
here, like every other unparsable string, with :class:`VersionError`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions._semver import compare_prerelease
from containerguard.versions.base import VersionScheme

_INT32_MAX = 2**31 - 1
_LABEL = re.compile(r"[0-9A-Za-z-]+", re.ASCII)
_NUMBERS = re.compile(r"[0-9]+(?:\.[0-9]+){0,3}", re.ASCII)
_INT32 = re.compile(r"-?[0-9]+", re.ASCII)

Parsed = tuple[tuple[int, int, int, int], tuple[str, ...]]


def _label_number(label: str) -> int | None:
    """``Int32.TryParse`` on a release label: a numeric label only when it fits an Int32."""
    if _INT32.fullmatch(label):
        value = int(label)
        if -(2**31) <= value <= _INT32_MAX:
            return value
    return None


def _valid_label(label: str, allow_leading_zeros: bool) -> bool:
    if not _LABEL.fullmatch(label):
        return False
    return allow_leading_zeros or not (len(label) > 1 and label[0] == "0" and label.isdigit())


@lru_cache(maxsize=65536)
def parse(version: str) -> Parsed:
    """``((major, minor, patch, revision), release labels)``; VersionError when NuGet rejects it."""
    text = version.strip()
    numbers, _, metadata = text.partition("+")
    numbers, dash, release = numbers.partition("-")
    if not _NUMBERS.fullmatch(numbers):
        raise VersionError(f"invalid NuGet version {version!r}")
    parts = [int(p) for p in numbers.split(".")]
    if max(parts) > _INT32_MAX:
        raise VersionError(f"NuGet version {version!r}: a part exceeds Int32")
    labels = tuple(release.split(".")) if dash else ()
    if dash and not all(_valid_label(label, False) for label in labels):
        raise VersionError(f"invalid NuGet release label in {version!r}")
    if "+" in text and not all(_valid_label(part, True) for part in metadata.split(".")):
        raise VersionError(f"invalid NuGet metadata in {version!r}")
    parts += [0] * (4 - len(parts))
    return (parts[0], parts[1], parts[2], parts[3]), labels


@register("version-scheme")
class NugetVersion(VersionScheme):
    """NuGet version ordering."""

    name: ClassVar[str] = "nuget"
    ecosystems: ClassVar[tuple[str, ...]] = ("NuGet",)

    def compare(self, a: str, b: str) -> int:
        """Four numeric parts, then release labels (case-insensitive); metadata ignored."""
        (na, la), (nb, lb) = parse(a), parse(b)
        if na != nb:
            return -1 if na < nb else 1
        # OrdinalIgnoreCase compares upper-cased UTF-16 units; labels are ASCII.
        return compare_prerelease(la, lb, numeric=_label_number, fold=str.upper)
