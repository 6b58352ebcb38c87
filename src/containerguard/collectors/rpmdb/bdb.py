"""Read a BerkeleyDB hash database, as rpm's ``Packages`` (RHEL/CentOS <= 8, Amazon Linux 2).

Only what rpm's Packages needs: the hash metadata page (magic 0x061561 at offset 12 tells the
byte order, page size at 20, last page at 32), hash pages (type 13, or 2 on RHEL 5) whose index
holds key/value item offsets, and values stored either inline (H_KEYDATA) or on a chain of
overflow pages (H_OFFPAGE -> type 7 pages, ``hf_offset`` = bytes used, ``next_pgno`` = chain).
See BerkeleyDB's dbinc/db_page.h.
"""

from __future__ import annotations

import struct

from containerguard.collectors.rpmdb import Blobs, RpmDbError

HASH_MAGIC = 0x061561
_VALID_PAGE_SIZES = frozenset(1 << n for n in range(9, 17))
_PAGE_HEADER = 26
_HASH_META, _HASH, _HASH_UNSORTED, _OVERFLOW = 8, 13, 2, 7
_H_KEYDATA, _H_OFFPAGE = 1, 3
_MIN_HEADER = 8 + 16
"""Smallest possible rpm header: shorter values (rpm's key-0 counter) are not packages."""


def byte_order(data: bytes) -> str | None:
    """``"<"`` or ``">"`` for a BerkeleyDB hash database, else None."""
    if len(data) < 512:
        return None
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", data, 12)[0] == HASH_MAGIC:
            return order
    return None


def read_bdb(data: bytes) -> Blobs:
    """Every value of a BerkeleyDB hash database that could be an rpm header."""
    order = byte_order(data)
    if order is None:
        raise RpmDbError("not a BerkeleyDB hash database")
    pagesize = struct.unpack_from(order + "I", data, 20)[0]
    if pagesize not in _VALID_PAGE_SIZES:
        raise RpmDbError(f"bad BerkeleyDB page size {pagesize}")
    if data[24] != 0:
        raise RpmDbError("encrypted BerkeleyDB database")
    if data[25] != _HASH_META:
        raise RpmDbError("BerkeleyDB database is not a hash database")
    last_pgno = struct.unpack_from(order + "I", data, 32)[0]
    npages = min(last_pgno + 1, len(data) // pagesize)
    reader = _Reader(data, order, pagesize, npages)
    out = Blobs()
    for pgno in range(1, npages):
        page = reader.page(pgno)
        if page[25] not in (_HASH, _HASH_UNSORTED):
            continue
        for value in reader.values(page, out.problems):
            if len(value) >= _MIN_HEADER:
                out.blobs.append(value)
    return out


class _Reader:
    def __init__(self, data: bytes, order: str, pagesize: int, npages: int) -> None:
        self.data, self.order, self.pagesize, self.npages = data, order, pagesize, npages

    def page(self, pgno: int) -> bytes:
        return self.data[pgno * self.pagesize:(pgno + 1) * self.pagesize]

    def values(self, page: bytes, problems: list[str]) -> list[bytes]:
        """The value of each key/value pair on a hash page (odd index slots)."""
        o = self.order
        entries = struct.unpack_from(o + "H", page, 20)[0]
        if _PAGE_HEADER + 2 * entries > self.pagesize:
            problems.append(f"hash page {struct.unpack_from(o + 'I', page, 8)[0]}: bad entry count")
            return []
        index = struct.unpack_from(f"{o}{entries}H", page, _PAGE_HEADER)
        values: list[bytes] = []
        for i in range(1, entries, 2):
            offset = index[i]
            if not _PAGE_HEADER <= offset < self.pagesize:
                problems.append("hash item offset outside its page")
                continue
            kind = page[offset]
            if kind == _H_OFFPAGE and offset + 12 <= self.pagesize:
                first, total = struct.unpack_from(o + "II", page, offset + 4)
                try:
                    values.append(self.overflow(first, total))
                except RpmDbError as exc:
                    problems.append(str(exc))
            elif kind == _H_KEYDATA:
                # An inline item runs up to the item before it in the index (BDB's LEN_HITEM);
                # the key of a pair is stored right after its value.
                end = index[i - 1]
                if offset < end <= self.pagesize:
                    values.append(page[offset + 1:end])
        return values

    def overflow(self, pgno: int, total: int) -> bytes:
        """Concatenate an overflow chain, guarding against loops and lies about its length."""
        if total > len(self.data):
            raise RpmDbError(f"overflow item longer than the file ({total} bytes)")
        out = bytearray()
        seen: set[int] = set()
        while pgno and len(out) < total:
            if pgno in seen or pgno >= self.npages:
                raise RpmDbError(f"broken overflow chain at page {pgno}")
            seen.add(pgno)
            page = self.page(pgno)
            if page[25] != _OVERFLOW:
                raise RpmDbError(f"page {pgno} in an overflow chain is not an overflow page")
            used = struct.unpack_from(self.order + "H", page, 22)[0]
            out += page[_PAGE_HEADER:_PAGE_HEADER + min(used, self.pagesize - _PAGE_HEADER)]
            pgno = struct.unpack_from(self.order + "I", page, 16)[0]
        if len(out) < total:
            raise RpmDbError("overflow chain shorter than its item")
        return bytes(out[:total])
