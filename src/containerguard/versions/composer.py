"""Packagist (Composer) versions: ``composer/semver``'s ``VersionParser::normalize``, then PHP's
``version_compare`` on the normalized strings, which is how Composer's ``Comparator`` orders them.

Normalizing pads to four numbers (``v1.2`` -> ``1.2.0.0``), spells stabilities out (``1.0b2`` ->
``1.0.0.0-beta2``, ``p1``/``pl1`` -> ``patch1``), drops ``stable``, build metadata, ``as`` aliases and
``@stability`` flags; ``1.x-dev`` style branches become ``1.9999999.9999999.9999999-dev``. PHP then
orders ``dev`` < ``alpha`` = ``a`` < ``beta`` = ``b`` < ``RC`` = ``rc`` < a number < ``patch`` = ``pl`` = ``p``.

Named branches (``dev-main``) never compare with versions in Composer, and strings Composer
cannot normalize are invalid: both raise :class:`VersionError`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_CLASSICAL = re.compile(r"v?(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER, re.I | re.ASCII)
_DATETIME = re.compile(r"v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})" + _MODIFIER, re.I | re.ASCII)
_ALIAS = re.compile(r"([^,\s]++) ++as ++([^,\s]++)", re.ASCII)
_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.I)
_BUILD = re.compile(r"([^,\s+]++)\+[^\s]++", re.ASCII)
_DEV_BRANCH = re.compile(r"(.*?)[.-]?dev", re.I | re.S)
_NUMERIC_BRANCH = re.compile(r"v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?", re.I | re.ASCII)
_STABILITY = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}
# PHP's compare_special_version_forms, checked in this order as prefixes; anything else is -1.
_SPECIAL_FORMS = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", 4),
    ("pl", 5),
    ("p", 5),
)


def _php_trim(text: str) -> str:
    return text.strip(" \t\n\r\0\x0b")


def _normalize_branch(name: str) -> str:
    match = _NUMERIC_BRANCH.fullmatch(_php_trim(name))
    if not match:
        return "dev-" + name
    version = "".join((g.replace("*", "x").replace("X", "x") if g else ".x") for g in match.groups())
    return version.replace("x", "9999999") + "-dev"


@lru_cache(maxsize=65536)
def normalize(version: str) -> str:
    """``VersionParser::normalize``; VersionError for branches and strings Composer rejects."""
    text = _php_trim(version)
    alias = _ALIAS.fullmatch(text)
    if alias:
        text = alias.group(1)
    flag = _FLAG.search(text)
    if flag:
        text = text[: flag.start()]
    if text in ("master", "trunk", "default") or text[:4].lower() == "dev-":
        raise VersionError(f"Composer branch {version!r} has no order")
    build = _BUILD.fullmatch(text)
    if build:
        text = build.group(1)
    match = _CLASSICAL.fullmatch(text)
    if match:
        groups = match.groups()
        normalized = match.group(1) + "".join(g or ".0" for g in groups[1:4])
        index = 4
    else:
        match = _DATETIME.fullmatch(text)
        if match:
            groups = match.groups()
            normalized = re.sub(r"\D", ".", match.group(1), flags=re.ASCII)
            index = 1
    if match:
        stability, number, dev = groups[index], groups[index + 1], groups[index + 2]
        if stability:
            if stability == "stable":
                return normalized
            normalized += "-" + _STABILITY.get(stability.lower(), stability.lower()) + (number or "").lstrip(".-")
        if dev:
            normalized += "-dev"
        return normalized
    branch = _DEV_BRANCH.fullmatch(text)
    if branch:
        normalized = _normalize_branch(branch.group(1))
        if "dev-" not in normalized:
            return normalized
    raise VersionError(f"invalid Composer version {version!r}")


def _isdigit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _isdig(ch: str) -> bool:
    return _isdigit(ch)


def _isndig(ch: str) -> bool:
    return not _isdigit(ch) and ch != "."


def canonicalize(version: str) -> str:
    """PHP's ``php_canonicalize_version``: ``-_+`` and other non-alphanumerics become ``.``, and a
    ``.`` goes between digits and letters."""
    if not version:
        return ""
    out = [version[0]]
    last = version[0]
    for ch in version[1:]:
        if ch in "-_+":
            if out[-1] != ".":
                out.append(".")
        elif (_isndig(last) and _isdig(ch)) or (_isdig(last) and _isndig(ch)):
            if out[-1] != ".":
                out.append(".")
            out.append(ch)
        elif not (ch.isascii() and ch.isalnum()):
            if out[-1] != ".":
                out.append(".")
        else:
            out.append(ch)
        last = ch
    return "".join(out)


def _special_form(form: str) -> int:
    for name, order in _SPECIAL_FORMS:
        if form.startswith(name):
            return order
    return -1


def _compare_forms(a: str, b: str) -> int:
    fa, fb = _special_form(a), _special_form(b)
    return (fa > fb) - (fa < fb)


def _strtol(text: str) -> int:
    digits = re.match(r"[0-9]*", text)
    return int(digits.group(0) or 0) if digits else 0


def php_version_compare(v1: str, v2: str) -> int:
    """PHP's ``version_compare($v1, $v2)`` (``ext/standard/versioning.c``), as -1, 0 or 1."""
    if not v1 or not v2:
        return (bool(v1) > bool(v2)) - (bool(v1) < bool(v2))
    s1 = v1 if v1[0] == "#" else canonicalize(v1)
    s2 = v2 if v2[0] == "#" else canonicalize(v2)
    # C walks both strings with p (part start) and n (the next dot, None at the last part).
    p1 = p2 = 0
    n1: int | None = 0
    n2: int | None = 0
    compare = 0
    while p1 < len(s1) and p2 < len(s2) and n1 is not None and n2 is not None:
        d1, d2 = s1.find(".", p1), s2.find(".", p2)
        n1 = d1 if d1 >= 0 else None
        n2 = d2 if d2 >= 0 else None
        part1, part2 = s1[p1:n1], s2[p2:n2]
        dig1 = bool(part1) and _isdigit(part1[0])
        dig2 = bool(part2) and _isdigit(part2[0])
        if dig1 and dig2:
            l1, l2 = _strtol(part1), _strtol(part2)
            compare = (l1 > l2) - (l1 < l2)
        elif not dig1 and not dig2:
            compare = _compare_forms(part1, part2)
        elif dig1:
            compare = _compare_forms("#N#", part2)
        else:
            compare = _compare_forms(part1, "#N#")
        if compare:
            break
        if n1 is not None:
            p1 = n1 + 1
        if n2 is not None:
            p2 = n2 + 1
    if compare == 0:
        if n1 is not None:
            rest = s1[p1:]
            compare = 1 if rest and _isdigit(rest[0]) else php_version_compare(rest, "#N#")
        elif n2 is not None:
            rest = s2[p2:]
            compare = -1 if rest and _isdigit(rest[0]) else php_version_compare("#N#", rest)
    return compare


@register("version-scheme")
class ComposerVersion(VersionScheme):
    """Composer version ordering (Packagist)."""

    name: ClassVar[str] = "composer"
    ecosystems: ClassVar[tuple[str, ...]] = ("Packagist",)

    def compare(self, a: str, b: str) -> int:
        """``version_compare`` of the two normalized versions."""
        return php_version_compare(normalize(a), normalize(b))
