"""Alpine, Wolfi and Chainguard package versions, compared as apk-tools 2 does (``src/version.c``).

Gentoo-style: ``{number}{.number}...{letter}{_suffix{number}}...{-r{number}}``. Suffixes
``_alpha _beta _pre _rc`` sort before the bare version and ``_cvs _svn _git _hg _p`` after it;
``-rN`` is the package revision. The tokenizer below is a line-for-line port of apk-tools'
``next_token``/``get_token`` state machine, so odd inputs (leading zeros: ``1.01`` < ``1.1``; a
letter after digits) order exactly as apk orders them.

Differences, on purpose: numbers are unbounded (apk's C ``int`` wraps on 10+ digit numbers such as
dates), and the empty string, which apk accepts as "no version", is a :class:`VersionError`, as
is anything ``apk_version_validate`` rejects.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from containerguard.errors import VersionError
from containerguard.registry import register
from containerguard.versions.base import VersionScheme

INVALID, DIGIT_OR_ZERO, DIGIT, LETTER, SUFFIX, SUFFIX_NO, REVISION_NO, END = range(-1, 7)
_PRE_SUFFIXES = ("alpha", "beta", "pre", "rc")
_POST_SUFFIXES = ("cvs", "svn", "git", "hg", "p")


def _isdigit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _islower(ch: str) -> bool:
    return "a" <= ch <= "z"


class _Blob:
    """The unread rest of a version string (apk's ``apk_blob_t``)."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def __len__(self) -> int:
        return len(self.text) - self.pos

    def at(self, offset: int = 0) -> str:
        return self.text[self.pos + offset]


def _next_token(kind: int, blob: _Blob) -> int:
    n = INVALID
    if len(blob) == 0 or blob.at() == "\0":
        n = END
    elif kind in (DIGIT, DIGIT_OR_ZERO) and _islower(blob.at()):
        n = LETTER
    elif kind == LETTER and _isdigit(blob.at()):
        n = DIGIT
    elif kind == SUFFIX and _isdigit(blob.at()):
        n = SUFFIX_NO
    else:
        ch = blob.at()
        if ch == ".":
            n = DIGIT_OR_ZERO
        elif ch == "_":
            n = SUFFIX
        elif ch == "-":
            if len(blob) > 1 and blob.at(1) == "r":
                n = REVISION_NO
                blob.pos += 1
            else:
                n = INVALID
        blob.pos += 1
    if n < kind and not (
        (n == DIGIT_OR_ZERO and kind == DIGIT) or (n == SUFFIX and kind == SUFFIX_NO) or (n == DIGIT and kind == LETTER)
    ):
        n = INVALID
    return n


def _get_token(kind: int, blob: _Blob) -> tuple[int, int]:
    """``(value, next token kind)`` for the token of ``kind`` at the head of ``blob``."""
    if len(blob) <= 0:
        return 0, END
    v = i = 0
    nt = INVALID
    rest = blob.text[blob.pos :]
    if kind == DIGIT_OR_ZERO and rest[0] == "0":
        # Leading zeros get a special treatment: "1.01" has the token -1 (one zero) then 1.
        while i < len(rest) and rest[i] == "0":
            i += 1
        nt = DIGIT
        v = -i
    elif kind in (DIGIT_OR_ZERO, DIGIT, SUFFIX_NO, REVISION_NO):
        while i < len(rest) and _isdigit(rest[i]):
            v = v * 10 + ord(rest[i]) - 48
            i += 1
    elif kind == LETTER:
        v = ord(rest[0])
        i = 1
    elif kind == SUFFIX:
        for idx, suffix in enumerate(_PRE_SUFFIXES):
            if rest.startswith(suffix):
                v, i = idx - len(_PRE_SUFFIXES), len(suffix)
                break
        else:
            for idx, suffix in enumerate(_POST_SUFFIXES):
                if rest.startswith(suffix):
                    v, i = idx, len(suffix)
                    break
            else:
                return -1, INVALID
    else:
        return -1, INVALID
    blob.pos += i
    if len(blob) == 0:
        return v, END
    if nt != INVALID:
        return v, nt
    return v, _next_token(kind, blob)


@lru_cache(maxsize=65536)
def validate(version: str) -> str:
    """``version`` when apk-tools' ``apk_version_validate`` accepts it; VersionError otherwise."""
    if not version:
        raise VersionError("empty apk version")
    kind, blob = DIGIT, _Blob(version)
    while kind not in (END, INVALID):
        _, kind = _get_token(kind, blob)
    if kind != END:
        raise VersionError(f"invalid apk version {version!r}")
    return version


def apk_compare(a: str, b: str) -> int:
    """apk-tools' ``apk_version_compare_blob`` on two valid versions."""
    at = bt = DIGIT
    av = bv = 0
    ablob, bblob = _Blob(a), _Blob(b)
    while at == bt and at not in (END, INVALID) and av == bv:
        av, at = _get_token(at, ablob)
        bv, bt = _get_token(bt, bblob)
    if av != bv:
        return -1 if av < bv else 1
    if at == bt:
        return 0
    # Equal so far: the longer one is newer unless what follows is a pre-release suffix.
    if at == SUFFIX and _get_token(at, ablob)[0] < 0:
        return -1
    if bt == SUFFIX and _get_token(bt, bblob)[0] < 0:
        return 1
    if at > bt:
        return -1
    if bt > at:
        return 1
    return 0


@register("version-scheme")
class ApkVersion(VersionScheme):
    """apk-tools version ordering (Alpine, Wolfi, Chainguard and other apk-based distros)."""

    name: ClassVar[str] = "apk"
    ecosystems: ClassVar[tuple[str, ...]] = (
        "Alpine",
        "Wolfi",
        "Chainguard",
        "Alpaquita",
        "BellSoft Hardened Containers",
        "MinimOS",
    )

    def compare(self, a: str, b: str) -> int:
        """Negative, zero or positive as apk orders ``a`` and ``b``."""
        return apk_compare(validate(a), validate(b))
