"""Importing feeds: build a new database file next to the old one, then swap it in atomically.

The current database is copied to a temporary file in the same folder, the new records are merged
into the copy, and ``os.replace`` puts it in place. A scan that opened the old file keeps reading
it; a failure at any point (a corrupt feed, a full disk) removes the temporary file and leaves the
old database serving.

Merge rules, per record key (source, scope, id): identical content is left alone (so re-importing
the same data changes nothing); a record whose ``modified`` is older than the stored one is ignored;
otherwise the new record replaces the stored one. Feeds without dates (the Debian tracker, secdb)
therefore replace their records whenever the content changed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from containerguard.errors import FeedError
from containerguard.models.advisory import Advisory, Affected

from . import codec
from .feeds.base import Feed, Malformed, documents, feed_for, feeds, timestamp_key
from .names import ecosystem_base, is_known_ecosystem, normalise_name
from .store import APPLICATION_ID, SCHEMA, SCHEMA_VERSION, check_schema

MAX_REASONS = 5
"""How many malformed-record reasons each source report keeps."""


@dataclass
class SourceReport:
    """What one feed at one location contributed to an import."""

    source: str
    location: str
    documents: int = 0
    """JSON documents (files, zip members) read in this feed's format."""
    records: int = 0
    """Valid records read."""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    """Records ignored because the database holds a newer version."""
    malformed: int = 0
    reasons: list[str] = field(default_factory=list)
    """The first :data:`MAX_REASONS` malformed-record reasons."""
    unknown_ecosystems: dict[str, int] = field(default_factory=dict)
    """Ecosystems no matcher knows (records kept; they never match), with record counts."""
    last_modified: str = ""

    def malformed_record(self, reason: str) -> None:
        """Count one malformed record."""
        self.malformed += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(reason)


@dataclass
class ImportReport:
    """The outcome of one import (one database swap)."""

    db_path: str
    sources: list[SourceReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Documents in no known feed format (e.g. a README.json next to the records)."""
    seconds: float = 0.0
    advisories: int = 0
    """Advisories the new database serves."""

    @property
    def records(self) -> int:
        """Valid records read, over every source."""
        return sum(s.records for s in self.sources)

    @property
    def malformed(self) -> int:
        """Malformed records, over every source."""
        return sum(s.malformed for s in self.sources)


@dataclass(frozen=True)
class FeedInput:
    """One thing to import: a local path, and the location recorded for it (its URL if downloaded)."""

    path: Path
    location: str = ""

    @property
    def label(self) -> str:
        """The location to record: the URL, or the absolute path."""
        return self.location or str(self.path.resolve())


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fail(exc: BaseException, folder: Path) -> FeedError:
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL)
    if full:
        return FeedError(f"disk full while building the vulnerability database in {folder}: "
                         "the previous database is unchanged")
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return FeedError(f"building the vulnerability database in {folder} failed ({detail}): "
                     "the previous database is unchanged")


def _connect(path: Path) -> sqlite3.Connection:
    """Open the temporary database for writing (explicit transactions)."""
    conn = sqlite3.connect(path, isolation_level=None)
    # The file is private until the swap and is thrown away on failure, so durability per
    # statement buys nothing: fsync once, just before the swap.
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = MEMORY")
    return conn


class DbBuilder:
    """Merges advisories into a copy of the database at ``db_path`` and swaps it in on :meth:`commit`."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.folder = db_path.parent
        self.tmp_path = self.folder / f".{db_path.name}.{os.getpid()}.tmp"
        self._lock_fd: int | None = None
        self._conn: sqlite3.Connection | None = None
        self.served = 0
        """Advisories the new database serves, set by :meth:`commit`."""

    # -- life cycle ---------------------------------------------------------------------------
    def open(self) -> None:
        """Take the import lock, copy the current database and start a transaction."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock()
            for stale in self.folder.glob(f".{self.db_path.name}.*.tmp"):
                stale.unlink(missing_ok=True)  # left by an import that was killed
            fresh = not self.db_path.exists()
            if not fresh:
                self._check_current()
                shutil.copyfile(self.db_path, self.tmp_path)
            self._conn = _connect(self.tmp_path)
            if fresh:
                self._conn.executescript(SCHEMA)
                self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.execute("BEGIN")
        except (OSError, sqlite3.Error) as exc:
            self.abort()
            raise _fail(exc, self.folder) from exc
        except BaseException:
            self.abort()
            raise

    def _lock(self) -> None:
        fd = os.open(self.folder / ".vulns.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise FeedError(f"another `db import` or `db update` is running on {self.folder}") from exc
        self._lock_fd = fd

    def _check_current(self) -> None:
        # Never merge into (and so silently downgrade) a database this version cannot read.
        conn = sqlite3.connect(f"file:{quote(str(self.db_path.resolve()))}?mode=ro", uri=True)
        try:
            check_schema(conn, self.db_path)
        finally:
            conn.close()

    @property
    def is_open(self) -> bool:
        """Whether a build is in progress (opened, not yet committed or aborted)."""
        return self._conn is not None

    @property
    def conn(self) -> sqlite3.Connection:
        """The open write connection."""
        if self._conn is None:
            raise RuntimeError("DbBuilder is not open")
        return self._conn

    def commit(self) -> int:
        """Finish the new database and swap it in; returns the number of served advisories."""
        try:
            conn = self.conn
            conn.execute("DELETE FROM ecosystems")
            conn.execute(
                "INSERT INTO ecosystems SELECT i.ecosystem, count(DISTINCT i.advisory) FROM affected_index i "
                "JOIN advisories a ON a.rowid = i.advisory WHERE a.withdrawn = '' GROUP BY i.ecosystem")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('built_at', ?)", (_now(),))
            count = int(conn.execute("SELECT count(*) FROM advisories WHERE withdrawn = ''").fetchone()[0])
            # Kept for status(): counting means reading every record, which every scan would pay.
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('advisories', ?)", (str(count),))
            conn.execute("COMMIT")
            conn.close()
            self._conn = None
            fd = os.open(self.tmp_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(self.tmp_path, self.db_path)
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # make the rename itself durable
            finally:
                os.close(dir_fd)
        except (OSError, sqlite3.Error) as exc:
            self.abort()
            raise _fail(exc, self.folder) from exc
        self._unlock()
        self.served = count
        return count

    def abort(self) -> None:
        """Drop the temporary database; the current one is untouched."""
        if self._conn is not None:
            with suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        self.tmp_path.unlink(missing_ok=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- writes -------------------------------------------------------------------------------
    def add(self, advisory: Advisory, scope: str = "") -> str:
        """Merge one advisory: returns ``added``, ``updated``, ``unchanged`` or ``older``."""
        doc = codec.dumps(advisory)
        head = codec.dumps(replace(advisory, affected=()))
        digest = hashlib.sha256(doc.encode()).hexdigest()
        key = timestamp_key(advisory.modified)
        conn = self.conn
        row = conn.execute("SELECT rowid, modified_key, digest FROM advisories WHERE source = ? AND scope = ? "
                           "AND id = ?", (advisory.source, scope, advisory.id)).fetchone()
        if row is None:
            rowid = conn.execute(
                "INSERT INTO advisories (source, scope, id, modified, modified_key, withdrawn, digest, doc, head) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (advisory.source, scope, advisory.id, advisory.modified, key, advisory.withdrawn, digest, doc, head),
            ).lastrowid
            outcome = "added"
        elif row[2] == digest:
            return "unchanged"
        elif key < row[1]:
            return "older"
        else:
            rowid = row[0]
            conn.execute("UPDATE advisories SET modified = ?, modified_key = ?, withdrawn = ?, digest = ?, doc = ?, "
                         "head = ? WHERE rowid = ?",
                         (advisory.modified, key, advisory.withdrawn, digest, doc, head, rowid))
            conn.execute("DELETE FROM affected_index WHERE advisory = ?", (rowid,))
            outcome = "updated"
        pairs: dict[tuple[str, str], list[Affected]] = {}
        for entry in advisory.affected:
            pairs.setdefault((entry.ecosystem, normalise_name(entry.ecosystem, entry.package)), []).append(entry)
        conn.executemany("INSERT INTO affected_index (ecosystem, name, advisory, affected) VALUES (?, ?, ?, ?)",
                         [(eco, name, rowid, codec.dumps_affected(entries)) for (eco, name), entries in pairs.items()])
        return outcome

    def record_source(self, report: SourceReport, imported_at: str) -> None:
        """Store the import stats of one (source, location)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO sources (source, location, records, malformed, last_modified, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (report.source, report.location, report.records, report.malformed, report.last_modified, imported_at))


@contextmanager
def building(db_path: Path) -> Iterator[DbBuilder]:
    """A :class:`DbBuilder` that commits when the block ends and aborts if it raises."""
    builder = DbBuilder(db_path)
    builder.open()
    try:
        yield builder
        if builder.is_open:
            builder.commit()
    except (OSError, sqlite3.Error) as exc:
        builder.abort()
        raise _fail(exc, builder.folder) from exc
    except BaseException:
        builder.abort()
        raise


Progress = Callable[[str, int], None]
"""Called as records are read: (location, records read so far at that location)."""


def _import_one(builder: DbBuilder, item: FeedInput, candidates: list[Feed], report: ImportReport,
                progress: Progress | None) -> None:
    if not item.path.exists():
        raise FeedError(f"{item.path}: no such file or directory")
    single_file = item.path.is_file() and not item.path.name.endswith(".zip")
    by_source: dict[str, SourceReport] = {}

    def source_report(name: str) -> SourceReport:
        if name not in by_source:
            by_source[name] = SourceReport(source=name, location=item.label)
        return by_source[name]

    seen = 0
    for doc in documents(item.path):
        if doc.error:
            if single_file:
                raise FeedError(doc.error)
            # Folders and zips are OSV's containers (one record per file): an unreadable file there
            # is a malformed OSV record.
            source_report("osv").malformed_record(doc.error)
            continue
        feed = feed_for(doc.data, candidates)
        if feed is None:
            if single_file:
                raise FeedError(f"{item.path}: not a known feed format (OSV, Debian security tracker JSON, "
                                "Alpine secdb JSON)")
            report.skipped.append(doc.origin)
            continue
        stats = source_report(feed.name)
        stats.documents += 1
        scope = feed.scope(doc.data)
        for record in feed.parse(doc.data, doc.origin):
            if isinstance(record, Malformed):
                stats.malformed_record(record.reason)
                continue
            stats.records += 1
            outcome = builder.add(record, scope)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if record.modified and timestamp_key(record.modified) > timestamp_key(stats.last_modified or ""):
                stats.last_modified = record.modified
            for affected in record.affected:
                if not is_known_ecosystem(affected.ecosystem):
                    base = ecosystem_base(affected.ecosystem)
                    stats.unknown_ecosystems[base] = stats.unknown_ecosystems.get(base, 0) + 1
            seen += 1
            if progress is not None and seen % 1000 == 0:
                progress(item.label, seen)
    if not by_source and not single_file:
        raise FeedError(f"{item.path}: no feed records found (expected OSV JSON, Debian security tracker "
                        "JSON or Alpine secdb JSON)")
    report.sources.extend(by_source.values())


def import_feeds(inputs: Iterable[FeedInput], db_path: Path, progress: Progress | None = None) -> ImportReport:
    """Import every input into the database at ``db_path`` in one atomic swap."""
    started = time.perf_counter()
    report = ImportReport(db_path=str(db_path))
    candidates = feeds()
    imported_at = _now()
    with building(db_path) as builder:
        for item in inputs:
            _import_one(builder, item, candidates, report, progress)
        for source in report.sources:
            builder.record_source(source, imported_at)
    report.advisories = builder.served
    report.seconds = time.perf_counter() - started
    return report
