"""Debian and Ubuntu package versions, compared as dpkg does (``lib/dpkg/version.c``).

``[epoch:]upstream[-revision]``: epochs compare as integers, then upstream and revision with dpkg's
``verrevcmp``: alternating runs of non-digits and digits; in the non-digit runs ``~`` sorts before
everything (even the end of the string), letters before all other characters, and digits compare
numerically.

Validity follows ``dpkg --compare-versions``: the hard errors of dpkg's ``parseversion`` (embedded
spaces, an empty or non-numeric epoch, nothing after the colon, an empty revision or upstream)
raise :class:`VersionError`; what dpkg only warns about (no leading digit, odd characters) is
compared the way dpkg compares it. Unlike dpkg, an empty string is an error here: dpkg treats it
as "no version", which no advisory means.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme

_INT_MAX = 2**31 - 1
# strtol(3) as dpkg calls it: an optional sign, then decimal digits.
_EPOCH = re.compile(r"([+-]?)([0-9]+)\Z")


@lru_cache(maxsize=65536)
def parse(version: str) -> tuple[int, bytes, bytes]:
    """``(epoch, upstream, revision)`` of a dpkg version; VersionError where dpkg errors out."""
    text = version.lstrip(" \t").rstrip()
    if not text:
        raise VersionError(f"empty Debian version {version!r}")
    if any(ch.isspace() for ch in text):
        raise VersionError(f"Debian version {version!r} has embedded spaces")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        match = _EPOCH.match(head)
        if not match:
            raise VersionError(f"Debian version {version!r}: epoch is empty or not a number")
        epoch = int(head)
        if epoch < 0:
            raise VersionError(f"Debian version {version!r}: epoch is negative")
        if epoch > _INT_MAX:
            raise VersionError(f"Debian version {version!r}: epoch is too big")
        if not text:
            raise VersionError(f"Debian version {version!r}: nothing after the colon")
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    elif not revision:
        raise VersionError(f"Debian version {version!r}: revision is empty")
    if not upstream:
        raise VersionError(f"Debian version {version!r}: upstream version is empty")
    # dpkg works on C bytes; UTF-8 keeps ASCII as is, and non-ASCII bytes order as dpkg's signed chars do.
    return epoch, upstream.encode(), revision.encode()


def _order(byte: int) -> int:
    """dpkg's ``order()``: ``~`` < end/digit < letters < other ASCII; bytes >= 0x80 (signed chars + 256) sit between."""
    if 48 <= byte <= 57:
        return 0
    if 65 <= byte <= 90 or 97 <= byte <= 122:
        return byte
    if byte == 126:
        return -1
    if byte >= 128:
        return byte
    return byte + 256


def verrevcmp(a: bytes, b: bytes) -> int:
    """dpkg's ``verrevcmp`` on one upstream or revision part."""
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        first_diff = 0
        while (i < la and not 48 <= a[i] <= 57) or (j < lb and not 48 <= b[j] <= 57):
            ac = _order(a[i]) if i < la else 0
            bc = _order(b[j]) if j < lb else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < la and a[i] == 48:
            i += 1
        while j < lb and b[j] == 48:
            j += 1
        while i < la and j < lb and 48 <= a[i] <= 57 and 48 <= b[j] <= 57:
            if not first_diff:
                first_diff = a[i] - b[j]
            i += 1
            j += 1
        if i < la and 48 <= a[i] <= 57:
            return 1
        if j < lb and 48 <= b[j] <= 57:
            return -1
        if first_diff:
            return first_diff
    return 0


_END = ((0,), 0)
"""What a part looks like past its end to ``verrevcmp``: an empty non-digit run (order 0), then 0."""


def _part_key(part: bytes) -> tuple[object, ...]:
    """A tuple that orders as :func:`verrevcmp` orders ``part``: pairs of a non-digit run (its bytes'
    :func:`_order` values, closed by 0 so that a shorter run sorts as dpkg's end-of-string does) and
    a digit run (its integer value), then :data:`_END`.

    Every key has at least one pair (an empty part is one empty pair, as ``"0"`` is), and only a first
    run can be empty, so no key is a prefix of another: tuple order never takes "shorter" for "smaller"
    and the pair where two keys differ decides, as in ``verrevcmp``."""
    key: list[object] = []
    i, n = 0, len(part)
    while True:
        start = i
        while i < n and not 48 <= part[i] <= 57:
            i += 1
        key.append((*(_order(c) for c in part[start:i]), 0))
        start = i
        while i < n and 48 <= part[i] <= 57:
            i += 1
        key.append(int(part[start:i] or b"0"))
        if i >= n:
            break
    key.extend(_END)
    return tuple(key)


@lru_cache(maxsize=65536)
def sort_key(version: str) -> tuple[int, tuple[object, ...], tuple[object, ...]]:
    """A key whose tuple order is dpkg's version order (one :func:`parse` and two part keys, cached:
    matching compares one installed version with many fixed versions)."""
    epoch, upstream, revision = parse(version)
    return epoch, _part_key(upstream), _part_key(revision)


@register("version-scheme")
class DebVersion(VersionScheme):
    """dpkg version ordering (Debian, Ubuntu)."""

    name: ClassVar[str] = "deb"
    ecosystems: ClassVar[tuple[str, ...]] = ("Debian", "Ubuntu")

    def compare(self, a: str, b: str) -> int:
        """dpkg's ``dpkg_version_compare``: epoch, then upstream, then revision."""
        ka, kb = sort_key(a), sort_key(b)
        return (ka > kb) - (ka < kb)
