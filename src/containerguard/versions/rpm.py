"""RPM package versions, compared as rpm's ``rpmvercmp`` (``rpmio/rpmvercmp.c``) and EVR rules.

``[epoch:]version[-release]``: the epoch (missing = 0) compares numerically, then version and
release with ``rpmvercmp``: alphanumeric segments, separators ignored, numeric segments beat
alphabetic ones and compare as numbers, ``~`` sorts before anything (even the end) and ``^`` after
the end but before anything else.

A missing release sorts before any release, as in python-rpm's ``labelCompare`` and libsolv's
total ordering (rpm's own range check instead skips the release when one side has none; advisories
and installed packages always carry one). rpm accepts any string, so only empty or blank strings,
whitespace inside, and an empty version or release raise :class:`VersionError`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme

# rpmvercmp only knows ASCII (risalnum/risdigit); everything else is a separator.
_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+|~|\^")
_EPOCH = re.compile(r"([0-9]*):")


@lru_cache(maxsize=65536)
def parse(evr: str) -> tuple[str, str, str | None]:
    """``(epoch, version, release)``; release None when absent."""
    text = evr.strip()
    if not text or any(ch.isspace() for ch in text):
        raise VersionError(f"invalid RPM version {evr!r}")
    epoch = "0"
    match = _EPOCH.match(text)
    if match:
        # rpm's parseEVR: leading digits then ':' is the epoch ("" means 0).
        epoch = match.group(1) or "0"
        text = text[match.end() :]
    version, hyphen, release = text.rpartition("-")
    if not hyphen:
        version, release_or_none = text, None
    else:
        release_or_none = release
    if not version or release_or_none == "":
        raise VersionError(f"invalid RPM version {evr!r}: empty version or release")
    return epoch, version, release_or_none


@lru_cache(maxsize=65536)
def _segments(text: str) -> tuple[str, ...]:
    return tuple(_SEGMENT.findall(text))


def rpmvercmp(a: str, b: str) -> int:
    """rpm's ``rpmvercmp`` on one version or release string."""
    if a == b:
        return 0
    sa, sb = _segments(a), _segments(b)
    i = 0
    while True:
        x = sa[i] if i < len(sa) else None
        y = sb[i] if i < len(sb) else None
        i += 1
        if x == "~" or y == "~":
            if x != "~":
                return 1
            if y != "~":
                return -1
            continue
        if x == "^" or y == "^":
            if x is None:
                return -1
            if y is None:
                return 1
            if x != "^":
                return 1
            if y != "^":
                return -1
            continue
        if x is None or y is None:
            break
        x_num, y_num = x[0].isdigit(), y[0].isdigit()
        if x_num != y_num:
            # A numeric segment is newer than an alphabetic one.
            return 1 if x_num else -1
        if x_num:
            x, y = x.lstrip("0"), y.lstrip("0")
            if len(x) != len(y):
                return 1 if len(x) > len(y) else -1
        if x != y:
            return 1 if x > y else -1
    if x is None and y is None:
        return 0
    return -1 if x is None else 1


@register("version-scheme")
class RpmVersion(VersionScheme):
    """rpm EVR ordering (Red Hat family, SUSE, Photon OS, Mageia, openEuler, Azure Linux)."""

    name: ClassVar[str] = "rpm"
    ecosystems: ClassVar[tuple[str, ...]] = (
        "Red Hat",
        "Rocky Linux",
        "AlmaLinux",
        "SUSE",
        "openSUSE",
        "Photon OS",
        "Mageia",
        "openEuler",
        "Azure Linux",
        # Not OSV ecosystems, but distros whose advisories other feeds key by these names.
        "Amazon Linux",
        "Oracle Linux",
        "CentOS",
        "Fedora",
    )

    def compare(self, a: str, b: str) -> int:
        """Epoch numerically, then version and release with ``rpmvercmp``."""
        ea, va, ra = parse(a)
        eb, vb, rb = parse(b)
        rc = rpmvercmp(ea, eb) or rpmvercmp(va, vb)
        if rc or ra == rb:
            return rc
        if ra is None or rb is None:
            return -1 if ra is None else 1
        return rpmvercmp(ra, rb)
