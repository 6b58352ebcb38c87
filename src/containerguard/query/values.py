"""Typed SQL values: what an expression compiles to.

A :class:`Val` is a SQL expression with its Kusto type. A ``dynamic`` value is either JSON (SQLite: JSON
text; PostgreSQL: ``jsonb``) or *scalar-backed*: a plain SQL column known to hold a string, number or
bool (``properties.status.severity`` of a finding is ``findings.severity`` with a display transform),
so comparisons and GROUP BY use the column itself instead of JSON.

A :class:`DocVal` is a JSON document not built yet (a row's ``properties``): a tree of
:class:`Node`. Taking a path of it resolves statically to the SQL of that leaf, and the document is
only built (``json_object``/``jsonb_build_object``) when the whole of it, or of a sub-object, is needed.
A :class:`PathsVal` is what a document becomes past a subquery: the paths the rest of the query reads,
each its own column, plus the whole JSON only when something needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement

STRING, LONG, REAL, BOOL, DATETIME, TIMESPAN, DYNAMIC = ("string", "long", "real", "bool", "datetime", "timespan",
                                                         "dynamic")
SCALARS = (STRING, LONG, REAL, BOOL, DATETIME, TIMESPAN)
NUMERIC = (LONG, REAL)
JSON_FORM = "json"


class _NoConst:
    def __repr__(self) -> str:
        return "NOCONST"


NOCONST: Any = _NoConst()
"""The ``const`` of a value not known when compiling."""

Path = tuple[str | int, ...]


@dataclass(frozen=True, eq=False)
class Val:
    """A typed SQL value.

    ``form`` matters for ``dynamic``: ``json`` (``sql`` is JSON) or the scalar type backing it. ``dt``
    is the raw timestamp behind an ISO-8601 string leaf (comparisons with datetimes use it);
    ``jpath`` is (JSON base, path) when ``sql`` is a path taken from JSON (lets text extraction use
    ``->>``/``#>>`` directly). ``const`` is the Python value when known at compile time."""

    sql: ColumnElement[Any]
    type: str
    form: str | None = None
    dt: ColumnElement[Any] | None = None
    jpath: tuple[ColumnElement[Any], Path] | None = None
    const: Any = field(default=NOCONST, compare=False)

    @property
    def is_const(self) -> bool:
        """Whether the value is known while compiling."""
        return self.const is not NOCONST

    @property
    def scalar_type(self) -> str:
        """The SQL-level type: the type itself, or for dynamic its backing form (``json`` or a scalar)."""
        return self.form or JSON_FORM if self.type == DYNAMIC else self.type

    def parts(self) -> list[ColumnElement[Any]]:
        """The SQL expressions a subquery must carry to rebuild this value."""
        return [self.sql] + ([self.dt] if self.dt is not None else [])

    def rebuild(self, parts: list[ColumnElement[Any]], keep_const: bool = True) -> Val:
        """The same value over a subquery's columns (constants stay known unless ``keep_const`` is
        false: a column of a UNION of branches differs from row to row)."""
        return replace(self, sql=parts[0], dt=parts[1] if self.dt is not None else None, jpath=None,
                       const=self.const if keep_const else NOCONST)


# ---------------------------------------------------------------- documents (a row's properties)


class Node:
    """A node of a document tree."""


@dataclass(frozen=True, eq=False)
class Obj(Node):
    """A JSON object whose members are nodes (insertion order kept)."""

    fields: tuple[tuple[str, Node], ...]

    def get(self, key: str) -> Node | None:
        """The member ``key``, or None."""
        return next((node for name, node in self.fields if name == key), None)


@dataclass(frozen=True, eq=False)
class Arr(Node):
    """A JSON array of a fixed number of nodes."""

    items: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Leaf(Node):
    """A scalar (string, long, real, bool) or null: a plain SQL column or expression."""

    val: Val


@dataclass(frozen=True, eq=False)
class Json(Node):
    """JSON computed in SQL (a JSON column, or an expression built from one): paths into it are JSON paths."""

    sql: ColumnElement[Any]


@dataclass(frozen=True, eq=False)
class DocVal:
    """A document not built yet; ``dynamic``."""

    node: Node
    type: str = DYNAMIC


@dataclass(frozen=True, eq=False)
class PathsVal:
    """A document past a subquery: ``whole`` (JSON, when needed) and one value per path read later."""

    whole: Val | None
    paths: dict[Path, Val]
    type: str = DYNAMIC


AnyVal = Val | DocVal | PathsVal


def obj(**members: Node) -> Obj:
    """An object node from keyword members (for keys that are Python identifiers)."""
    return Obj(tuple(members.items()))


def obj_of(members: list[tuple[str, Node]]) -> Obj:
    """An object node from (key, node) pairs."""
    return Obj(tuple(members))
