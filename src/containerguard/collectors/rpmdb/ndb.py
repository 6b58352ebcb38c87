"""Read rpm's own "ndb" ``Packages.db`` (SUSE; rpm lib/backend/ndb/rpmpkg.c).

Layout, little-endian: a 32-byte header ("RpmP", version 0, generation, slot page count) that
also fills the first two 16-byte slots; slot pages of 4 KiB holding 16-byte slots ("Slot",
package index, block offset, block count; offset 0 = free); and 16-byte blocks holding each
blob as a head ("BlbS", package index, timestamp, length), the header, zero padding and a tail
(adler32 of head+blob+padding, length, "BlbE").
"""

from __future__ import annotations

import struct
import zlib

from containerguard.collectors.rpmdb import Blobs, RpmDbError

MAGIC = b"RpmP"
_PAGE = 4096
_SLOT = 16
_BLK = 16
_HEAD = 16
_TAIL = 12
_MAX_SLOT_PAGES = 2048
"""More slot pages than half a million packages: a corrupt or hostile header."""


def is_ndb(data: bytes) -> bool:
    """Whether ``data`` starts like an ndb Packages.db."""
    return data[:4] == MAGIC


def read_ndb(data: bytes) -> Blobs:
    """Every package header blob in an ndb ``Packages.db``."""
    if len(data) < _PAGE or not is_ndb(data):
        raise RpmDbError("not an ndb Packages.db")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise RpmDbError(f"unsupported ndb version {version}")
    if not 0 < slot_pages <= _MAX_SLOT_PAGES or slot_pages * _PAGE > len(data):
        raise RpmDbError(f"bad ndb slot page count {slot_pages}")
    out = Blobs()
    first_data_blk = slot_pages * _PAGE // _BLK
    for slotno in range(2, slot_pages * _PAGE // _SLOT):
        magic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4sIII", data, slotno * _SLOT)
        if magic != b"Slot":
            raise RpmDbError(f"bad ndb slot magic at slot {slotno}")
        if blkoff == 0:
            continue
        problem = _check_slot(data, pkgidx, blkoff, blkcnt, first_data_blk)
        if problem:
            out.problems.append(f"ndb package {pkgidx}: {problem}")
            continue
        start = blkoff * _BLK
        bloblen = struct.unpack_from("<I", data, start + 12)[0]
        out.blobs.append(data[start + _HEAD:start + _HEAD + bloblen])
    return out


def _check_slot(data: bytes, pkgidx: int, blkoff: int, blkcnt: int, first_data_blk: int) -> str:
    """Why a slot's blob cannot be trusted, or "" if it is sound."""
    start, end = blkoff * _BLK, (blkoff + blkcnt) * _BLK
    if blkoff < first_data_blk or blkcnt * _BLK < _HEAD + _TAIL or end > len(data):
        return "blob outside the file"
    magic, head_idx, _tstamp, bloblen = struct.unpack_from("<4sIII", data, start)
    if magic != b"BlbS" or head_idx != pkgidx:
        return "bad blob head"
    if blkcnt != (_HEAD + bloblen + _TAIL + _BLK - 1) // _BLK:
        return "blob length disagrees with its slot"
    adler, tail_len, tail_magic = struct.unpack_from("<II4s", data, end - _TAIL)
    if tail_magic != b"BlbE" or tail_len != bloblen:
        return "bad blob tail"
    if zlib.adler32(data[start:end - _TAIL]) != adler:
        return "blob checksum mismatch"
    return ""
