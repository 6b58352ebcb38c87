"""RubyGems versions, ordered as ``Gem::Version#<=>``.

A version is dot-separated segments; a ``-`` means ``.pre.``. Segments are runs of digits
(numbers) or letters (strings, compared case-sensitively); any letter makes a prerelease, and a
string segment sorts before any number, so ``1.0.a`` < ``1.0``. Trailing zeros are dropped from
the release part and from the prerelease part separately (``1.0`` == ``1``).

Syntax is ``Gem::Version.correct?``; the empty string, which RubyGems still takes as ``0`` with a
deprecation warning, raises :class:`VersionError` here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme

_VERSION = re.compile(r"[0-9]+(?>\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?", re.ASCII)
_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.ASCII | re.IGNORECASE)
_RUBY_SPACE = " \t\r\n\f\v\0"

Segment = int | str


def _drop_trailing_zeros(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


@lru_cache(maxsize=65536)
def canonical_segments(version: str) -> tuple[Segment, ...]:
    """``Gem::Version#canonical_segments``; VersionError when not ``Gem::Version.correct?``."""
    text = version.strip(_RUBY_SPACE)
    if not _VERSION.fullmatch(text):
        raise VersionError(f"invalid RubyGems version {version!r}")
    segments: list[Segment] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(text.replace("-", ".pre."))]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    release, prerelease = segments[:first_string], segments[first_string:]
    return tuple(_drop_trailing_zeros(release) + _drop_trailing_zeros(prerelease))


@register("version-scheme")
class GemVersion(VersionScheme):
    """RubyGems version ordering."""

    name: ClassVar[str] = "gem"
    ecosystems: ClassVar[tuple[str, ...]] = ("RubyGems",)

    def compare(self, a: str, b: str) -> int:
        """Segment by segment, missing ones as 0; a string segment sorts before a number."""
        sa, sb = canonical_segments(a), canonical_segments(b)
        for i in range(max(len(sa), len(sb))):
            x: Segment = sa[i] if i < len(sa) else 0
            y: Segment = sb[i] if i < len(sb) else 0
            if x == y:
                continue
            if isinstance(x, str) != isinstance(y, str):
                return -1 if isinstance(x, str) else 1
            return -1 if x < y else 1  # type: ignore[operator]
        return 0
