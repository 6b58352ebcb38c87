"""Read rpm's sqlite database (``rpmdb.sqlite``: RHEL 9, Fedora 33+, Amazon Linux 2023).

The header blobs are in ``Packages(hnum, blob)``. The file is opened from memory, never from the
image, with the schema untrusted and a step budget so a hostile database cannot run away.
"""

from __future__ import annotations

import sqlite3

from containerguard.collectors.rpmdb import Blobs, RpmDbError

MAGIC = b"SQLite format 3\x00"
_MAX_STEPS = 20_000
"""Progress-handler calls (each 10,000 VM steps) before a query is abandoned."""


def is_sqlite(data: bytes) -> bool:
    """Whether ``data`` starts like an SQLite 3 database."""
    return data[:16] == MAGIC


def read_sqlite(data: bytes) -> Blobs:
    """Every header blob in an rpm sqlite database."""
    if len(data) < 100 or not is_sqlite(data):
        raise RpmDbError("not an SQLite database")
    image = bytearray(data)
    # rpm leaves the database in WAL mode (header bytes 18/19 = 2); an in-memory copy cannot
    # have a WAL, so mark it as a rollback-journal database. Pages are unchanged.
    image[18] = image[19] = 1
    con = sqlite3.connect(":memory:")
    # A damaged schema may hold invalid UTF-8; nothing here needs decoded text.
    con.text_factory = bytes
    try:
        con.deserialize(bytes(image))
        steps = 0

        def budget() -> int:
            nonlocal steps
            steps += 1
            return 1 if steps > _MAX_STEPS else 0

        con.set_progress_handler(budget, 10_000)
        con.execute("PRAGMA trusted_schema = OFF")
        con.execute("PRAGMA query_only = ON")
        kind = con.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
        if kind is None or kind[0] != b"table":
            raise RpmDbError("no Packages table")
        out = Blobs()
        for (blob,) in con.execute("SELECT blob FROM Packages ORDER BY hnum"):
            if isinstance(blob, bytes):
                out.blobs.append(blob)
            else:
                out.problems.append("Packages row without a blob")
        return out
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise RpmDbError(f"unreadable rpm sqlite database: {exc}") from exc
    finally:
        con.close()
