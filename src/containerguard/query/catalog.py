"""The virtual tables: each is a UNION ALL of branches, one per resource type, over the real tables.

A branch knows its rows (a FROM, optional joins made only when a column of the joined table is read,
and filters), its ``id`` and ``name``, and its ``properties`` as a document tree (:mod:`.values`)
that mirrors, column for column, the REST document of the same object (:mod:`containerguard.api.shapes`
and the route modules). The tree is what lets ``properties.status.severity`` compile to the
``findings.severity`` column instead of JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Float, FromClause, Text, case, cast, func

from containerguard.models.advisory import SEVERITY_LEVELS

from .dialects import Dialect
from .values import BOOL, LONG, REAL, STRING, Json, Leaf, Node, Val

ID, NAME, TYPE, PROPERTIES = "id", "name", "type", "properties"
COLUMNS = (ID, NAME, TYPE, PROPERTIES)


@dataclass
class BranchSql:
    """The SQL of one branch for one dialect."""

    base: FromClause
    id: ColumnElement[Any]
    name: ColumnElement[Any]
    properties: Node
    where: list[ColumnElement[Any]] = field(default_factory=list)
    lazy_joins: list[tuple[FromClause, ColumnElement[Any]]] = field(default_factory=list)
    """(table, ON clause): joined only when the query reads one of the table's columns."""


@dataclass(frozen=True)
class Source:
    """A branch: rows of one ``type``."""

    type: str
    build: Callable[[Dialect], BranchSql]


@dataclass(frozen=True)
class Table:
    """A virtual table."""

    name: str
    sources: tuple[Source, ...]
    description: str = ""


_TABLES: dict[str, Table] = {}


def register(table: Table) -> Table:
    """Add a virtual table to the catalog."""
    _TABLES[table.name.lower()] = table
    return table


def tables() -> dict[str, Table]:
    """Every virtual table by lower-case name."""
    if not _TABLES:
        from . import resources, securityresources  # noqa: F401  (they register themselves)
    return dict(_TABLES)


def find_table(name: str) -> Table | None:
    """The table ``name`` (case-insensitive, as in Resource Graph)."""
    return tables().get(name.lower())


# ---------------------------------------------------------------- leaf helpers for branch documents


def text(sql: ColumnElement[Any]) -> Leaf:
    """A string leaf."""
    return Leaf(Val(sql, STRING))


def long(sql: ColumnElement[Any]) -> Leaf:
    """A long leaf."""
    return Leaf(Val(sql, LONG))


def real(sql: ColumnElement[Any]) -> Leaf:
    """A real leaf."""
    return Leaf(Val(sql, REAL))


def flag(sql: ColumnElement[Any]) -> Leaf:
    """A bool leaf."""
    return Leaf(Val(sql, BOOL))


def const(d: Dialect, value: Any) -> Leaf:
    """A constant leaf (None: JSON null)."""
    if value is None:
        return Leaf(Val(d.null(STRING), STRING, const=None))
    kind = {str: STRING, bool: BOOL, int: LONG, float: REAL}[type(value)]
    return Leaf(d.literal(value, kind))


def json(d: Dialect, column: ColumnElement[Any]) -> Json:
    """A JSON column as a subtree."""
    return Json(d.json_column(column))


def json_at(d: Dialect, column: ColumnElement[Any], *path: str | int) -> Json:
    """``column[path]`` of a JSON column (null when missing)."""
    return Json(d.json_get(d.json_column(column), path))


def iso(d: Dialect, ts: ColumnElement[Any], zulu: bool = True) -> Leaf:
    """An ISO-8601 string of a timestamp column (comparisons with datetimes use the column)."""
    return Leaf(Val(d.iso(ts, zulu), STRING, dt=ts))


def or_null(d: Dialect, sql: ColumnElement[Any]) -> Leaf:
    """Python's ``value or None`` of a string column."""
    return Leaf(Val(func.nullif(sql, d.text("")), STRING))


def as_text(sql: ColumnElement[Any]) -> ColumnElement[Any]:
    """``str(number)``."""
    return cast(sql, Text)


def display_severity(d: Dialect, level: ColumnElement[Any]) -> ColumnElement[Any]:
    """:func:`containerguard.api.shapes.display_severity` in SQL: the stored levels by a simple CASE (a
    GROUP BY of a million findings evaluates it per row: equality tests are much cheaper than string
    functions), anything else capitalised."""
    known = {level_name: level_name.capitalize() for level_name in SEVERITY_LEVELS} | {
        level_name.lower(): level_name.capitalize() for level_name in SEVERITY_LEVELS} | {"": "Unknown"}
    return case({d.text(raw): d.text(shown) for raw, shown in known.items()}, value=level,
                else_=d.capitalize(level))


def nonzero_or_null(d: Dialect, sql: ColumnElement[Any]) -> Leaf:
    """Python's ``number or None``."""
    return Leaf(Val(case((sql == 0, d.null(REAL)), else_=cast(sql, Float)), REAL))


def nonempty(d: Dialect, sql: ColumnElement[Any]) -> ColumnElement[Any]:
    """Python's ``bool(text)``."""
    return sql != d.text("")
