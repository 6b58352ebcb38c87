"""The syntax tree of a query: frozen dataclasses, each node with the position of its first token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pos:
    """Where a node starts in the query text (1-based) and the text of its first token."""

    line: int = 0
    column: int = 0
    token: str = ""


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Expr:
    """Base of scalar expressions."""

    pos: Pos = field(default_factory=Pos, compare=False)


@dataclass(frozen=True)
class Literal(Expr):
    """A constant: string, long, real, bool, datetime, timespan, or a dynamic literal (list/dict/None)."""

    value: Any = None
    type: str = "string"
    """``string``, ``long``, ``real``, ``bool``, ``datetime``, ``timespan`` or ``dynamic``."""


@dataclass(frozen=True)
class Column(Expr):
    """A column by name."""

    name: str = ""


@dataclass(frozen=True)
class Member(Expr):
    """``obj.key``, ``obj['key']`` or ``obj[0]``: a constant step into a dynamic value."""

    obj: Expr = field(default_factory=Expr)
    key: str | int = ""


@dataclass(frozen=True)
class Index(Expr):
    """``obj[expr]`` with a computed index or key."""

    obj: Expr = field(default_factory=Expr)
    index: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Call(Expr):
    """``name(args...)``."""

    name: str = ""
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Unary(Expr):
    """``-x``."""

    op: str = "-"
    operand: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Binary(Expr):
    """``left op right``: logic, comparison, string operators and arithmetic."""

    op: str = ""
    left: Expr = field(default_factory=Expr)
    right: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class InList(Expr):
    """``left in (a, b, ...)`` and its negated / case-insensitive forms (``op``: in, !in, in~, !in~)."""

    op: str = "in"
    left: Expr = field(default_factory=Expr)
    items: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Between(Expr):
    """``left between (low .. high)`` (``negated`` for ``!between``)."""

    left: Expr = field(default_factory=Expr)
    low: Expr = field(default_factory=Expr)
    high: Expr = field(default_factory=Expr)
    negated: bool = False


# ---------------------------------------------------------------- tabular operators


@dataclass(frozen=True)
class Assign:
    """``name = expr`` in project/extend/summarize, or ``expr`` alone (``name`` None: derived)."""

    name: str | None
    expr: Expr
    pos: Pos = field(default_factory=Pos, compare=False)


@dataclass(frozen=True)
class SortKey:
    """``expr [asc|desc] [nulls first|last]``; Kusto sorts descending by default."""

    expr: Expr
    descending: bool = True
    nulls_first: bool | None = None
    """None: Kusto's default (first when ascending, last when descending)."""


@dataclass(frozen=True)
class Operator:
    """Base of tabular operators."""

    pos: Pos = field(default_factory=Pos, compare=False)


@dataclass(frozen=True)
class Where(Operator):
    """``where predicate``."""

    predicate: Expr = field(default_factory=Expr)


@dataclass(frozen=True)
class Project(Operator):
    """``project a, b = expr, ...``."""

    items: tuple[Assign, ...] = ()


@dataclass(frozen=True)
class ProjectAway(Operator):
    """``project-away a, b``."""

    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extend(Operator):
    """``extend a = expr, ...``."""

    items: tuple[Assign, ...] = ()


@dataclass(frozen=True)
class Summarize(Operator):
    """``summarize aggregates by keys``."""

    aggregates: tuple[Assign, ...] = ()
    by: tuple[Assign, ...] = ()


@dataclass(frozen=True)
class Sort(Operator):
    """``order by`` / ``sort by``."""

    keys: tuple[SortKey, ...] = ()


@dataclass(frozen=True)
class Top(Operator):
    """``top N by key``."""

    count: int = 0
    key: SortKey = field(default_factory=lambda: SortKey(Expr()))


@dataclass(frozen=True)
class Take(Operator):
    """``take N`` / ``limit N``."""

    count: int = 0


@dataclass(frozen=True)
class Count(Operator):
    """``count``: one row, one column ``Count``."""


@dataclass(frozen=True)
class Distinct(Operator):
    """``distinct a, b`` (``names`` empty: ``distinct *``)."""

    names: tuple[str, ...] = ()
    name_pos: tuple[Pos, ...] = ()


@dataclass(frozen=True)
class JoinKey:
    """``$left.a == $right.b`` (``on a`` is ``a == a``)."""

    left: str
    right: str
    pos: Pos = field(default_factory=Pos, compare=False)


@dataclass(frozen=True)
class Join(Operator):
    """``join kind=K (right) on keys``."""

    kind: str = "innerunique"
    right: Pipeline = field(default_factory=lambda: Pipeline())
    keys: tuple[JoinKey, ...] = ()


@dataclass(frozen=True)
class MvExpand(Operator):
    """``mv-expand [with_itemindex=I] [name =] expr [to typeof(T)] [limit N]``."""

    item: Assign = field(default_factory=lambda: Assign(None, Expr()))
    index_name: str | None = None
    to_type: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Pipeline:
    """``table | op | op ...``."""

    table: str = ""
    ops: tuple[Operator, ...] = ()
    pos: Pos = field(default_factory=Pos, compare=False)


__all__ = [
    "Assign",
    "Between",
    "Binary",
    "Call",
    "Column",
    "Count",
    "Distinct",
    "Expr",
    "Extend",
    "InList",
    "Index",
    "Join",
    "JoinKey",
    "Literal",
    "Member",
    "MvExpand",
    "Operator",
    "Pipeline",
    "Pos",
    "Project",
    "ProjectAway",
    "Sort",
    "SortKey",
    "Summarize",
    "Take",
    "Top",
    "Unary",
    "Where",
]
