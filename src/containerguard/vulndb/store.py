"""The SQLite vulnerability database: schema, validation and the read-only :class:`VulnStore`.

One file, ``$CONTAINERGUARD_HOME/db/vulns.sqlite``. Each advisory is one row holding its JSON blob;
``affected_index`` maps (ecosystem, normalised package name) to advisories. Imports never write this
file in place (see :mod:`containerguard.vulndb.build`), so readers open it strictly read-only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from urllib.parse import quote

from containerguard.config import Settings
from containerguard.errors import VulnDbError
from containerguard.models.advisory import Advisory, Affected

from . import codec
from .base import Candidate, DbStatus, SourceStatus, VulnStore
from .names import normalise_ecosystem, normalise_name

SCHEMA_VERSION = 1
"""Bumped whenever the tables change; kept in ``PRAGMA user_version``."""

APPLICATION_ID = 0x43475644
"""``PRAGMA application_id`` ('CGVD'): tells our database from any other SQLite file."""

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (
    rowid INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    scope TEXT NOT NULL,          -- the part of a feed a record belongs to, e.g. 'v3.18/main' in secdb
    id TEXT NOT NULL,
    modified TEXT NOT NULL,       -- as the feed wrote it
    modified_key TEXT NOT NULL,   -- normalised UTC timestamp, compared to decide replacements
    withdrawn TEXT NOT NULL,
    digest TEXT NOT NULL,         -- sha256 of doc: re-importing identical data is a no-op
    doc TEXT NOT NULL,            -- codec.dumps(Advisory), the whole record
    head TEXT NOT NULL,           -- codec.dumps(Advisory without affected), what lookups decode
    UNIQUE (source, scope, id)
);
CREATE TABLE affected_index (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,           -- normalised with names.normalise_name
    advisory INTEGER NOT NULL REFERENCES advisories(rowid) ON DELETE CASCADE,
    affected TEXT NOT NULL,       -- codec.dumps_affected: only this pair's entries, so a lookup of
                                  -- one package never decodes the other releases' or packages' entries
    PRIMARY KEY (ecosystem, name, advisory)
) WITHOUT ROWID;
CREATE INDEX affected_by_advisory ON affected_index (advisory);
CREATE TABLE ecosystems (ecosystem TEXT PRIMARY KEY, advisories INTEGER NOT NULL);
CREATE TABLE sources (
    source TEXT NOT NULL,
    location TEXT NOT NULL,
    records INTEGER NOT NULL,
    malformed INTEGER NOT NULL,
    last_modified TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (source, location)
);
"""

NO_DB_MESSAGE = "no vulnerability database: run `containerguard db import PATH` or `db update`"


def db_path(settings: Settings) -> Path:
    """Where the vulnerability database lives."""
    return settings.home / "db" / "vulns.sqlite"


def check_schema(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of an open database; VulnDbError when it is not ours or too new."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise VulnDbError(f"{path} is not a vulnerability database ({exc}): remove it and run "
                          "`containerguard db import PATH` or `db update`") from exc
    if app_id != APPLICATION_ID:
        raise VulnDbError(f"{path} is not a containerguard vulnerability database: remove it and run "
                          "`containerguard db import PATH` or `db update`")
    if version > SCHEMA_VERSION:
        raise VulnDbError(f"{path} has schema version {version}, newer than this containerguard supports "
                          f"({SCHEMA_VERSION}): upgrade containerguard or rebuild the database elsewhere")
    if version < SCHEMA_VERSION:
        raise VulnDbError(f"{path} has the old schema version {version}: rebuild it with "
                          "`containerguard db import PATH` or `db update`")
    return int(version)


def _uri(path: Path) -> str:
    return f"file:{quote(str(path.resolve()))}?mode=ro"


class SqliteVulnStore(VulnStore):
    """Read-only access to the database at ``path`` (opened with ``mode=ro``).

    An import swaps a new file in with ``os.replace``; a store opened earlier keeps reading the file
    it opened, so a scan always sees one consistent database.
    """

    _CACHE_SIZE = 4096

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VulnDbError(NO_DB_MESSAGE)
        try:
            # check_same_thread=False: the connection is read-only, and SQLite's default serialized
            # threading mode makes sharing it between matcher threads safe.
            self._conn = sqlite3.connect(_uri(self.path), uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise VulnDbError(f"cannot open the vulnerability database {self.path}: {exc}") from exc
        self.schema_version = check_schema(self._conn, self.path)
        self._lock = threading.Lock()
        self._decoded: OrderedDict[int, Advisory] = OrderedDict()
        self._ecosystems: frozenset[str] | None = None

    @classmethod
    def open(cls, settings: Settings) -> SqliteVulnStore:
        """The store under the settings' data home."""
        return cls(db_path(settings))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> SqliteVulnStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _head(self, rowid: int, doc: str) -> Advisory:
        # Popular packages (openssl, glibc…) are looked up once per image; a small LRU keeps the
        # JSON decode off the hot path when many images are scanned by one process.
        cached = self._decoded.get(rowid)
        if cached is not None:
            self._decoded.move_to_end(rowid)
            return cached
        advisory = codec.loads(doc)
        self._decoded[rowid] = advisory
        if len(self._decoded) > self._CACHE_SIZE:
            self._decoded.popitem(last=False)
        return advisory

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise VulnDbError(f"vulnerability database {self.path} is damaged ({exc}): rebuild it with "
                              "`containerguard db import PATH` or `db update`") from exc

    def lookup(self, ecosystem: str, package: str) -> list[Advisory]:
        """Advisories for (ecosystem, package), each with ``affected`` narrowed to that pair."""
        return self.lookup_many([(ecosystem, package)])[(ecosystem, package)]

    _BATCH = 500
    """Names per query in :meth:`lookup_many` (well under SQLite's bound-parameter limit)."""

    def lookup_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Advisory]]:
        """:meth:`lookup` for many pairs, one query per ecosystem and batch of names instead of one per
        pair (an image's packages are a few hundred lookups)."""
        return {key: [c.load() for c in found] for key, found in self.candidates(keys).items()}

    def candidates(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Candidate]]:
        """The records of many pairs with their ``affected`` entries decoded and the rest of each record
        decoded on :attr:`Candidate.load` (matching loads the few that match)."""
        wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key in dict.fromkeys(keys):
            eco = normalise_ecosystem(key[0])
            wanted.setdefault((eco, normalise_name(eco, key[1])), []).append(key)
        by_ecosystem: dict[str, list[str]] = {}
        for eco, name in wanted:
            by_ecosystem.setdefault(eco, []).append(name)
        found: dict[tuple[str, str], list[Candidate]] = {}
        for eco, names in by_ecosystem.items():
            for start in range(0, len(names), self._BATCH):
                batch = names[start:start + self._BATCH]
                rows = self._query(
                    "SELECT i.name, a.rowid, a.id, a.head, i.affected FROM affected_index i "
                    "JOIN advisories a ON a.rowid = i.advisory "
                    f"WHERE i.ecosystem = ? AND i.name IN ({', '.join('?' * len(batch))}) AND a.withdrawn = '' "
                    "ORDER BY i.name, a.id, a.source, a.scope", (eco, *batch))
                for row_name, rowid, advisory_id, head, affected in rows:
                    entries = codec.loads_affected(str(affected))
                    found.setdefault((eco, str(row_name)), []).append(
                        Candidate(str(advisory_id), entries, partial(self._load, int(str(rowid)), str(head), entries)))
        return {key: list(found.get(norm, ())) for norm, keys in wanted.items() for key in keys}

    def _load(self, rowid: int, head: str, affected: tuple[Affected, ...]) -> Advisory:
        with self._lock:
            return replace(self._head(rowid, head), affected=affected)

    def ecosystems(self) -> frozenset[str]:
        """Every ecosystem with at least one served (not withdrawn) record."""
        if self._ecosystems is None:
            self._ecosystems = frozenset(str(r[0]) for r in self._query("SELECT ecosystem FROM ecosystems"))
        return self._ecosystems

    def status(self) -> DbStatus:
        """Schema version, build time and per-source counts."""
        meta = {str(k): str(v) for k, v in self._query("SELECT key, value FROM meta")}
        sources = tuple(
            SourceStatus(source=str(s), location=str(loc), records=int(str(r)), malformed=int(str(m)),
                         last_modified=str(lm), imported_at=str(at))
            for s, loc, r, m, lm, at in self._query(
                "SELECT source, location, records, malformed, last_modified, imported_at FROM sources "
                "ORDER BY source, location"))
        # The builder records the count; a database built before it did is counted (a full read).
        count = meta.get("advisories") or self._query("SELECT count(*) FROM advisories WHERE withdrawn = ''")[0][0]
        return DbStatus(path=str(self.path), schema_version=self.schema_version,
                        built_at=meta.get("built_at", ""), sources=sources, advisories=int(str(count)))
