"""Readers for the three rpm database formats (BerkeleyDB hash, ndb, sqlite) and rpm headers.

Each reader takes the database file's bytes and returns the raw header blobs it holds, plus a
note for every record it could not read; :mod:`.header` turns a blob into package fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class RpmDbError(ValueError):
    """The file is not a database of the expected format, or is damaged beyond reading."""


@dataclass
class Blobs:
    """Header blobs read from one database, and why any record was left out."""

    blobs: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
