"""Parse the rpm header blobs stored in rpm databases (big-endian index + data store).

A stored header is ``il`` (index entries) and ``dl`` (data bytes), both u32 big-endian, then
``il`` 16-byte entries ``(tag, type, offset, count)`` and the data store. Only the few tags we
need are read; every offset is bounds-checked because the bytes come from an untrusted image.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from containerguard.collectors.rpmdb import RpmDbError

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_SOURCERPM = 1044

_TYPE_INT32 = 4
_TYPE_STRING = 6
_TYPE_I18NSTRING = 9
_STRING_TAGS = frozenset({TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_LICENSE, TAG_ARCH, TAG_SOURCERPM})

# rpm's own sanity limits (lib/header.c: hdrchkTags, headerMaxbytes).
_MAX_INDEX = 0xFFFF
_MAX_DATA = 256 * 1024 * 1024


@dataclass(frozen=True)
class RpmHeader:
    """The package fields we use from one installed-package header."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    sourcerpm: str
    license: str


def _string_at(data: bytes, offset: int) -> str:
    end = data.find(b"\x00", offset)
    if end < 0:
        raise RpmDbError(f"unterminated string at data offset {offset}")
    return data[offset:end].decode("utf-8", errors="replace")


def parse_header(blob: bytes) -> RpmHeader:
    """Read name, version, release, epoch, arch, source rpm and license from a header blob."""
    if len(blob) < 8:
        raise RpmDbError("header blob too short")
    il, dl = struct.unpack_from(">II", blob, 0)
    if not 0 < il <= _MAX_INDEX or dl > _MAX_DATA:
        raise RpmDbError(f"implausible header sizes il={il} dl={dl}")
    data_start = 8 + 16 * il
    if data_start + dl > len(blob):
        raise RpmDbError(f"header blob truncated ({len(blob)} < {data_start + dl} bytes)")
    data = blob[data_start:data_start + dl]
    strings: dict[int, str] = {}
    epoch: int | None = None
    for i in range(il):
        tag, kind, offset, count = struct.unpack_from(">iIiI", blob, 8 + 16 * i)
        if tag not in _STRING_TAGS and tag != TAG_EPOCH:
            continue
        if not 0 <= offset < dl:
            raise RpmDbError(f"tag {tag} offset {offset} outside data ({dl} bytes)")
        # Later entries win: rpm appends "dribble" entries after the immutable region to
        # override values inside it.
        if tag == TAG_EPOCH:
            if kind != _TYPE_INT32 or count < 1 or offset + 4 > dl:
                raise RpmDbError("bad EPOCH entry")
            epoch = struct.unpack_from(">i", data, offset)[0]
        elif kind in (_TYPE_STRING, _TYPE_I18NSTRING):
            strings[tag] = _string_at(data, offset)
    name = strings.get(TAG_NAME, "")
    version = strings.get(TAG_VERSION, "")
    if not name or not version:
        raise RpmDbError("header has no NAME or VERSION")

    def optional(tag: int) -> str:
        value = strings.get(tag, "")
        return "" if value == "(none)" else value

    return RpmHeader(name=name, version=version, release=strings.get(TAG_RELEASE, ""), epoch=epoch,
                     arch=optional(TAG_ARCH), sourcerpm=optional(TAG_SOURCERPM),
                     license=optional(TAG_LICENSE))


def parse_source_rpm(sourcerpm: str) -> tuple[str, str]:
    """``foo-1.2-3.el9.src.rpm`` -> ``("foo", "1.2-3.el9")``; ``("", "")`` if unparseable."""
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if sourcerpm.endswith(suffix):
            stem = sourcerpm[: -len(suffix)]
            break
    else:
        return "", ""
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return "", ""
    return parts[0], f"{parts[1]}-{parts[2]}"
