"""What each step of a pipeline must carry: the columns read further down, and of a dynamic column
either the whole value or only the property paths read (``properties.status.severity``).

This is what keeps a query from building the ``properties`` JSON of a million findings when it only
groups by one property: the compiler materialises a document at a subquery boundary only as far as
the operators after it need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import ast
from .values import Path

WHOLE: frozenset[Path] | None = None
"""A column needed as a whole value."""

Need = dict[str, frozenset[Path] | None]
"""Column name -> the paths read (None: the whole value)."""


class AllColumns:
    """Every column, whole (what the query's result needs)."""

    def __repr__(self) -> str:
        return "ALL"


ALL = AllColumns()
Needs = Need | AllColumns

PASSTHROUGH_FUNCTIONS = frozenset({"parse_json", "todynamic"})


def passthrough(expr: ast.Expr) -> tuple[str, Path] | None:
    """``(column, path)`` when ``expr`` is a column, a constant path into one (``c.a[0]['b']``), or
    ``parse_json``/``todynamic`` of such (they return dynamic values unchanged)."""
    steps: list[str | int] = []
    node = expr
    while True:
        if isinstance(node, ast.Member):
            steps.append(node.key)
            node = node.obj
        elif isinstance(node, ast.Call) and node.name in PASSTHROUGH_FUNCTIONS and len(node.args) == 1:
            node = node.args[0]
        elif isinstance(node, ast.Column):
            return node.name, tuple(reversed(steps))
        else:
            return None


def _add(need: Need, name: str, paths: frozenset[Path] | None) -> None:
    if name in need:
        current = need[name]
        need[name] = None if current is None or paths is None else current | paths
    else:
        need[name] = paths


def merge(*needs: Need) -> Need:
    """The union of needs."""
    out: Need = {}
    for need in needs:
        for name, paths in need.items():
            _add(out, name, paths)
    return out


def refs(expr: ast.Expr) -> Need:
    """The columns (and paths) an expression reads."""
    found = passthrough(expr)
    if found is not None:
        name, path = found
        return {name: frozenset({path}) if path else WHOLE}
    out: Need = {}
    for child in _children(expr):
        out = merge(out, refs(child))
    return out


def _children(expr: ast.Expr) -> Iterable[ast.Expr]:
    if isinstance(expr, ast.Member):
        return (expr.obj,)
    if isinstance(expr, ast.Index):
        return expr.obj, expr.index
    if isinstance(expr, ast.Call):
        return expr.args
    if isinstance(expr, ast.Unary):
        return (expr.operand,)
    if isinstance(expr, ast.Binary):
        return expr.left, expr.right
    if isinstance(expr, ast.InList):
        return expr.left, *expr.items
    if isinstance(expr, ast.Between):
        return expr.left, expr.low, expr.high
    return ()


def translate(expr: ast.Expr, wanted: frozenset[Path] | None) -> Need:
    """What reading ``wanted`` of a column defined as ``expr`` reads upstream."""
    found = passthrough(expr)
    if found is None:
        return refs(expr)
    name, prefix = found
    if wanted is None:
        return {name: frozenset({prefix}) if prefix else WHOLE}
    return {name: frozenset(prefix + p for p in wanted)}


def names_of(items: tuple[ast.Assign, ...]) -> list[str]:
    """The column names of project/extend items: given, derived, else ``Column1``, ``Column2``…"""
    out: list[str] = []
    counter = 0
    for item in items:
        name = item.name or derived_name(item.expr)
        if not name:
            counter += 1
            name = f"Column{counter}"
        elif not item.name and name in out:  # two derived names alike: x, x1, x2 …
            base, n = name, 1
            while f"{base}{n}" in out:
                n += 1
            name = f"{base}{n}"
        out.append(name)
    return out


def _assigned(items: tuple[ast.Assign, ...], need: Needs, replace_all: bool) -> Needs:
    """Needs before ``extend`` (``replace_all`` False) or ``project`` (True) given the needs after it."""
    names = names_of(items)
    if isinstance(need, AllColumns):
        if not replace_all:
            return ALL
        upstream: Need = {}
        for item in items:
            upstream = merge(upstream, translate(item.expr, WHOLE))
        return upstream
    out: Need = {} if replace_all else dict(need)
    for name, item in reversed(list(zip(names, items, strict=True))):
        if replace_all:
            if name not in need:
                continue
            wanted = need[name]
        else:
            if name not in out:
                continue
            wanted = out.pop(name)
        out = merge(out, translate(item.expr, wanted))
    return out


def derived_name(expr: ast.Expr) -> str:
    """Kusto's name for an unnamed expression: a column's name, ``a_b_c`` for a path, the same for a
    function of a single column or path (``tostring(properties.x)`` -> ``properties_x``); "" otherwise."""
    found = passthrough(expr)
    if found is not None:
        name, path = found
        return re.sub(r"[^A-Za-z0-9_]", "_", "_".join([name, *(str(p) for p in path)]))
    if isinstance(expr, ast.Call):
        columns = [a for a in expr.args if not isinstance(a, ast.Literal)]
        if len(columns) == 1:
            return derived_name(columns[0])
    return ""


def step_needs(op: ast.Operator, after: Needs) -> Needs:
    """The needs before ``op`` given the needs after it."""
    if isinstance(op, ast.Where):
        return after if isinstance(after, AllColumns) else merge(after, refs(op.predicate))
    if isinstance(op, ast.Extend):
        return _assigned(op.items, after, replace_all=False)
    if isinstance(op, ast.Project):
        return _assigned(op.items, after, replace_all=True)
    if isinstance(op, ast.ProjectAway):
        return after
    if isinstance(op, ast.Summarize):
        out: Need = {}
        for item in (*op.aggregates, *op.by):
            out = merge(out, refs(item.expr))
        return out
    if isinstance(op, ast.Sort | ast.Top):
        keys = op.keys if isinstance(op, ast.Sort) else (op.key,)
        if isinstance(after, AllColumns):
            return after
        return merge(after, *(refs(k.expr) for k in keys))
    if isinstance(op, ast.Take):
        return after
    if isinstance(op, ast.Count):
        return {}
    if isinstance(op, ast.Distinct):
        if not op.names:
            return ALL
        return {name: WHOLE for name in op.names}
    if isinstance(op, ast.Join):
        left = {k.left: WHOLE for k in op.keys}
        return after if isinstance(after, AllColumns) else merge(after, left)
    if isinstance(op, ast.MvExpand):
        name = op.item.name or derived_name(op.item.expr)
        if isinstance(after, AllColumns):
            return after
        rest = {k: v for k, v in after.items() if k not in (name, op.index_name)}
        return merge(rest, translate(op.item.expr, WHOLE))
    return ALL


def join_right_needs(op: ast.Join, after: Needs) -> Needs:
    """What the right side of a join must carry: the names needed after the join (a right column
    renamed ``x1`` for a clash is ``x`` on its side) and its keys."""
    if isinstance(after, AllColumns):
        return ALL
    if op.kind in ("leftsemi", "leftanti"):
        return {k.right: WHOLE for k in op.keys}
    out: Need = {}
    for name, paths in after.items():
        _add(out, name, paths)
        stripped = name.rstrip("0123456789")
        if stripped and stripped != name:
            _add(out, stripped, paths)
    return merge(out, {k.right: WHOLE for k in op.keys})


def pipeline_needs(ops: tuple[ast.Operator, ...], final: Needs) -> list[Needs]:
    """``result[i]``: what must be available before ``ops[i]`` (``result[len(ops)]`` is ``final``)."""
    out: list[Needs] = [final]
    for op in reversed(ops):
        out.append(step_needs(op, out[-1]))
    return list(reversed(out))
