"""Running a query: read-only, with a time limit and a row limit, results decoded to JSON-ready values.

Read-only by construction: the compiler only emits SELECTs, and the query runs where writes are refused
anyway (SQLite: ``PRAGMA query_only`` on its connection; PostgreSQL: ``SET TRANSACTION READ ONLY``).
The time limit is PostgreSQL's ``statement_timeout`` and, on SQLite, a progress handler that
interrupts the statement.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Select, text
from sqlalchemy.exc import DBAPIError

from .compiler import Compiler, OutputColumn
from .dialects import dialect_for
from .errors import QueryError, QueryFailed, QueryTimeout
from .parser import parse
from .values import BOOL, DATETIME, JSON_FORM, LONG, REAL, STRING, TIMESPAN

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
DEFAULT_TIMEOUT = 10.0
"""Seconds a query may run."""
_PROGRESS_STEPS = 2000
"""SQLite VM instructions between two looks at the clock."""


@dataclass(frozen=True)
class QueryResult:
    """Columns (name and Kusto type), rows, and whether the row limit cut the result."""

    columns: list[dict[str, str]]
    rows: list[list[Any]]
    truncated: bool

    def as_dict(self) -> dict[str, Any]:
        """The API's answer."""
        return {"columns": self.columns, "rows": self.rows, "truncated": self.truncated}


def check_limit(limit: int | None) -> int:
    """A row limit within bounds (default 1000, at most 10,000)."""
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1 or limit > MAX_LIMIT:
        raise QueryError(f"the row limit must be between 1 and {MAX_LIMIT}")
    return limit


def compile_query(query: str, dialect: str, limit: int = DEFAULT_LIMIT,
                  now: datetime | None = None) -> tuple[Select[Any], list[OutputColumn]]:
    """The SELECT of ``query`` for a dialect (``sqlite``/``postgresql``), reading ``limit + 1`` rows at most
    (one more than returned tells whether the result was cut)."""
    pipeline = parse(query)
    compiler = Compiler(dialect_for(dialect), now or datetime.now(UTC))
    return compiler.compile(pipeline, check_limit(limit) + 1)


def run_query(engine: Engine, query: str, limit: int | None = None, timeout: float | None = None) -> QueryResult:
    """Run ``query`` against the store's engine (at most ``limit`` rows, ``timeout`` seconds, defaults
    :data:`DEFAULT_LIMIT` and :data:`DEFAULT_TIMEOUT`); :class:`QueryError` for a bad query,
    :class:`QueryTimeout` when it runs out of time, :class:`QueryFailed` when the database refuses it."""
    rows_wanted = check_limit(limit)
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if timeout <= 0:
        raise QueryError("the time limit must be more than 0 seconds")
    statement, columns = compile_query(query, engine.dialect.name, rows_wanted)
    with engine.connect() as conn, _read_only(conn, timeout) as deadline:
        try:
            raw = conn.execute(statement).fetchall()
        except DBAPIError as exc:
            raise _failure(exc, deadline, timeout) from None
    truncated = len(raw) > rows_wanted
    rows = [[decode(value, column) for value, column in zip(row, columns, strict=True)]
            for row in raw[:rows_wanted]]
    return QueryResult([{"name": c.name, "type": c.type} for c in columns], rows, truncated)


class _Deadline:
    """When the query must stop; ``check`` is SQLite's progress handler (non-zero interrupts)."""

    def __init__(self, timeout: float) -> None:
        self.at = time.monotonic() + timeout
        self.expired = False

    def check(self) -> int:
        if time.monotonic() > self.at:
            self.expired = True
            return 1
        return 0


@contextmanager
def _read_only(conn: Connection, timeout: float) -> Iterator[_Deadline]:
    deadline = _Deadline(timeout)
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        register_functions(raw, deadline)
        raw.execute("PRAGMA query_only = 1")
        raw.set_progress_handler(deadline.check, _PROGRESS_STEPS)
        try:
            yield deadline
        finally:
            raw.set_progress_handler(None, 0)
            raw.execute("PRAGMA query_only = 0")
            conn.rollback()
        return
    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    conn.execute(text("SELECT set_config('statement_timeout', :ms, true), set_config('TimeZone', 'UTC', true)"),
                 {"ms": str(max(1, int(timeout * 1000)))})
    try:
        yield deadline
    finally:
        conn.rollback()


def _failure(exc: DBAPIError, deadline: _Deadline, timeout: float) -> Exception:
    orig = exc.orig
    if deadline.expired or getattr(orig, "sqlstate", "") == "57014":
        return QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped: narrow it (where, take, "
                            "summarize) and run it again")
    first = str(orig).strip().split("\n", 1)[0]
    return QueryFailed(f"the database could not run the query: {first}")


# ---------------------------------------------------------------- SQLite's regular expressions


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> int | None:
    if pattern is None or value is None:
        return None
    return 1 if _regex(pattern).search(str(value)) else 0


def _extract(pattern: str | None, group: int | None, value: Any) -> str | None:
    if pattern is None or group is None or value is None:
        return None
    match = _regex(pattern).search(str(value))
    if match is None:
        return None
    found = match.group(group)
    return found if found is None else str(found)


class _Expired(Exception):
    """Raised by a regex function called after the query's deadline (SQLite then fails the statement)."""


def register_functions(conn: sqlite3.Connection, deadline: _Deadline | None = None) -> None:
    """``cg_regexp(pattern, text)`` and ``cg_extract(pattern, group, text)`` on a SQLite connection: SQLite
    has no regular expressions, so these two run Python's ``re`` per row (the only per-row Python). The
    progress handler cannot interrupt a function call, so each call checks the deadline itself."""

    def regexp(pattern: str | None, value: Any) -> int | None:
        if deadline is not None and deadline.check():
            raise _Expired
        return _regexp(pattern, value)

    def extract(pattern: str | None, group: int | None, value: Any) -> str | None:
        if deadline is not None and deadline.check():
            raise _Expired
        return _extract(pattern, group, value)

    conn.create_function("cg_regexp", 2, regexp, deterministic=True)
    conn.create_function("cg_extract", 3, extract, deterministic=True)


# ---------------------------------------------------------------- decoding


def iso(value: datetime) -> str:
    """ISO 8601 UTC with ``Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timespan_text(seconds: float) -> str:
    """Kusto's ``[-][d.]hh:mm:ss[.fffffff]``."""
    sign = "-" if seconds < 0 else ""
    ticks = round(abs(seconds) * 10_000_000)
    whole, fraction = divmod(ticks, 10_000_000)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{secs:02d}"
    return out + (f".{fraction:07d}" if fraction else "")


def decode(value: Any, column: OutputColumn) -> Any:
    """A database value as the JSON value of its Kusto type."""
    form = column.form
    if value is None:
        return "" if form == STRING and column.type == STRING else None
    if form == JSON_FORM:
        return json.loads(value) if isinstance(value, str | bytes) else value
    if form == BOOL:
        return bool(value)
    if form == LONG:
        return int(value)
    if form == REAL:
        return float(value)
    if form == DATETIME:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return iso(parsed)
        return iso(value)
    if form == TIMESPAN:
        return timespan_text(float(value))
    return value if isinstance(value, str) else str(value)
