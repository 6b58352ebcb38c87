"""Scalar expressions to typed SQL: columns and property paths, comparisons, string operators, logic
and arithmetic, with Kusto's implicit conversions. Constants are folded while compiling, which is how
``where type == '...'`` removes whole branches of a table before any SQL runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, false, func, not_, or_, true

from . import ast
from .dialects import Dialect
from .errors import QueryError
from .needs import passthrough
from .values import (
    BOOL,
    DATETIME,
    DYNAMIC,
    JSON_FORM,
    LONG,
    NUMERIC,
    REAL,
    STRING,
    TIMESPAN,
    AnyVal,
    Arr,
    DocVal,
    Json,
    Leaf,
    Node,
    Obj,
    Path,
    PathsVal,
    Val,
)

WORD = "A-Za-z0-9_"


def error(message: str, node: ast.Expr | ast.Operator | ast.Assign | ast.Pos) -> QueryError:
    """A compile error at ``node``."""
    pos = node if isinstance(node, ast.Pos) else node.pos
    return QueryError(message, pos.line, pos.column, pos.token)


class Scope:
    """Compiles expressions against a set of columns (name -> value) for one dialect."""

    def __init__(self, d: Dialect, columns: Mapping[str, AnyVal], now: datetime) -> None:
        self.d = d
        self.columns = columns
        self.now = now

    # ------------------------------------------------------------ entry points

    def compile(self, e: ast.Expr) -> AnyVal:
        """The value of ``e``: may be a document (``properties``) not built yet."""
        if isinstance(e, ast.Literal):
            return self.d.literal(e.value, e.type)
        if isinstance(e, ast.Column):
            return self.column(e)
        if isinstance(e, ast.Member):
            return self.member(e)
        if isinstance(e, ast.Index):
            return self.index(e)
        if isinstance(e, ast.Call):
            from .functions import call

            return call(self, e)
        if isinstance(e, ast.Unary):
            return self.negate(e)
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.InList):
            return self.in_list(e)
        if isinstance(e, ast.Between):
            return self.between(e)
        raise error("unsupported expression", e)

    def value(self, e: ast.Expr) -> Val:
        """The value of ``e`` as a plain typed SQL value (documents built as JSON)."""
        return self.plain(self.compile(e))

    def plain(self, v: AnyVal) -> Val:
        """A document or path set as JSON; a value as it is."""
        if isinstance(v, Val):
            return v
        return Val(self.json(v), DYNAMIC, JSON_FORM)

    # ------------------------------------------------------------ columns and paths

    def column(self, e: ast.Column) -> AnyVal:
        """A column by name (case-sensitive, as in Kusto)."""
        if e.name not in self.columns:
            near = [n for n in self.columns if n.lower() == e.name.lower()]
            hint = f" (did you mean {near[0]!r}?)" if near else f" (columns: {', '.join(self.columns)})"
            raise error(f"unknown column {e.name!r}{hint}", e)
        return self.columns[e.name]

    def member(self, e: ast.Member) -> AnyVal:
        """``x.a.b``: resolved statically on documents, as JSON paths otherwise."""
        found = passthrough(e)
        if found is not None:
            name, path = found
            if name not in self.columns:
                self.column(ast.Column(_column_pos(e), name))  # raises: unknown column
            base = self.columns[name]
            if _is_dynamic(base):
                return self.path(base, path, e)
        return self.path(self.compile(e.obj), (e.key,), e)

    def path(self, base: AnyVal, path: Path, at: ast.Expr) -> AnyVal:
        """``base`` at ``path``."""
        if not path:
            return base
        if isinstance(base, DocVal):
            return self._node_path(base.node, path)
        if isinstance(base, PathsVal):
            if path in base.paths:
                return base.paths[path]
            for cut in range(len(path) - 1, 0, -1):
                if path[:cut] in base.paths:
                    return self.path(base.paths[path[:cut]], path[cut:], at)
            if base.whole is None:
                raise error(f"internal: the path {'.'.join(map(str, path))} was not carried through a subquery",
                            at)
            return self.path(base.whole, path, at)
        if base.type != DYNAMIC:
            raise error(f"cannot take a property of a {base.type} value (only of dynamic ones)", at)
        if base.form not in (None, JSON_FORM):
            return self.null()
        if base.jpath is not None:
            root, prefix = base.jpath
            full = prefix + path
            return Val(self.d.json_get(root, full), DYNAMIC, JSON_FORM, jpath=(root, full))
        return Val(self.d.json_get(base.sql, path), DYNAMIC, JSON_FORM, jpath=(base.sql, path))

    def _node_path(self, node: Node, path: Path) -> AnyVal:
        for i, step in enumerate(path):
            if isinstance(node, Obj) and isinstance(step, str):
                child = node.get(step)
            elif isinstance(node, Arr) and isinstance(step, int):
                index = step if step >= 0 else len(node.items) + step
                child = node.items[index] if 0 <= index < len(node.items) else None
            elif isinstance(node, Json):
                rest = path[i:]
                return Val(self.d.json_get(node.sql, rest), DYNAMIC, JSON_FORM, jpath=(node.sql, rest))
            else:
                child = None
            if child is None:
                return self.null()
            node = child
        return self.node_value(node)

    def node_value(self, node: Node) -> AnyVal:
        """A document node as a value: leaves scalar-backed, JSON as JSON, objects and arrays lazy."""
        if isinstance(node, Leaf):
            v = node.val
            return Val(v.sql, DYNAMIC, v.type if v.type != DYNAMIC else v.form, dt=v.dt, const=v.const)
        if isinstance(node, Json):
            return Val(node.sql, DYNAMIC, JSON_FORM)
        return DocVal(node)

    def index(self, e: ast.Index) -> AnyVal:
        """``x[expr]`` with a computed key."""
        base = self.plain(self.compile(e.obj))
        key = self.value(e.index)
        if base.type != DYNAMIC:
            raise error("only dynamic values can be indexed", e)
        if key.type not in (STRING, LONG):
            raise error("an index must be a string or a long", e.index)
        return Val(self.d.json_get_dynamic(self.as_json(base), key), DYNAMIC, JSON_FORM)

    def null(self) -> Val:
        """A dynamic null."""
        return self.d.literal(None, DYNAMIC)

    # ------------------------------------------------------------ JSON

    def json(self, v: AnyVal) -> ColumnElement[Any]:
        """``v`` as JSON (documents built with the dialect's JSON builder)."""
        if isinstance(v, DocVal):
            return self.build(v.node)
        if isinstance(v, PathsVal):
            if v.whole is None:
                raise QueryError("internal: a document was needed whole but only some of its paths were carried")
            return self.as_json(v.whole)
        return self.as_json(v)

    def as_json(self, v: Val) -> ColumnElement[Any]:
        """A plain value as JSON."""
        return self.d.to_json(v)

    def build(self, node: Node) -> ColumnElement[Any]:
        """A document tree as JSON."""
        if isinstance(node, Obj):
            return self.d.json_object([(self.d.text(k), self.member_arg(child)) for k, child in node.fields])
        if isinstance(node, Arr):
            return self.d.json_array([self.member_arg(child) for child in node.items])
        if isinstance(node, Leaf):
            return self.d.to_json(node.val)
        if isinstance(node, Json):
            return node.sql
        raise QueryError("internal: unknown document node")

    def member_arg(self, node: Node) -> ColumnElement[Any]:
        """A node as a member of a JSON object or array."""
        if isinstance(node, Obj | Arr):
            return self.build(node)
        if isinstance(node, Leaf):
            return self.d.json_arg(node.val)
        if isinstance(node, Json):
            return self.d.json_arg(Val(node.sql, DYNAMIC, JSON_FORM))
        raise QueryError("internal: unknown document node")

    # ------------------------------------------------------------ conversions

    def as_text(self, v: AnyVal) -> ColumnElement[Any]:
        """Kusto's string form (``tostring`` without the empty-string default)."""
        if not isinstance(v, Val):
            return self.d.json_text(self.json(v))
        if v.type != DYNAMIC:
            return self.d.to_text(v)
        if v.form not in (None, JSON_FORM):
            return self.d.to_text(Val(v.sql, v.form or STRING))
        if v.jpath is not None:
            return self.d.json_text(v.jpath[0], v.jpath[1])
        return self.d.json_text(v.sql)

    def as_number(self, v: AnyVal, ktype: str, at: ast.Expr) -> ColumnElement[Any]:
        """A long or real."""
        if not isinstance(v, Val):
            return self.d.json_number(self.json(v), ktype)
        kind = v.scalar_type
        if kind in NUMERIC or kind == TIMESPAN:
            if ktype == LONG and kind != LONG:
                return self._truncate(v.sql)
            return cast(v.sql, Float) if ktype == REAL and kind == LONG else v.sql
        if kind == STRING:
            return self.d.to_number(v.sql, ktype)
        if kind == BOOL:
            return case((v.sql, 1), (not_(v.sql), 0))
        if kind == JSON_FORM:
            return self.d.json_number(v.sql, ktype)
        raise error(f"a {kind} value is not a number", at)

    def _truncate(self, sql: ColumnElement[Any]) -> ColumnElement[Any]:
        from sqlalchemy import BigInteger

        return cast(func.trunc(sql), BigInteger) if self.d.name == "postgresql" else cast(sql, BigInteger)

    def as_bool(self, v: AnyVal, at: ast.Expr) -> ColumnElement[Any]:
        """A bool (conditions of where, iff, and/or)."""
        if not isinstance(v, Val):
            return self.d.json_bool(self.json(v))
        if v.is_const and isinstance(v.const, bool):
            return true() if v.const else false()
        kind = v.scalar_type
        if kind == BOOL:
            return v.sql
        if kind == JSON_FORM:
            return self.d.json_bool(v.sql)
        if kind == STRING:
            return case((func.lower(v.sql) == "true", true()), (func.lower(v.sql) == "false", false()))
        if kind in NUMERIC:
            return v.sql != 0
        raise error(f"a {kind} value is not a condition (compare it: ==, !=, >, …)", at)

    def as_datetime(self, v: AnyVal, at: ast.Expr) -> ColumnElement[Any]:
        """A timestamp."""
        if not isinstance(v, Val):
            return self.d.parse_timestamp(self.d.json_text(self.json(v)))
        if v.dt is not None:
            return v.dt
        kind = v.scalar_type
        if kind == DATETIME:
            return v.sql
        if kind == STRING:
            if v.is_const:
                from .parser import parse_datetime

                parsed = parse_datetime(str(v.const))
                return self.d.timestamp(parsed) if parsed else self.d.null(DATETIME)
            return self.d.parse_timestamp(v.sql)
        if kind == JSON_FORM:
            return self.d.parse_timestamp(self.as_text(v))
        raise error(f"a {kind} value is not a datetime", at)

    # ------------------------------------------------------------ operators

    def negate(self, e: ast.Unary) -> Val:
        """``-x``."""
        v = self.value(e.operand)
        if v.is_const and isinstance(v.const, int | float | timedelta):
            return self.d.literal(-v.const, v.type)
        kind = v.scalar_type
        if kind in (*NUMERIC, TIMESPAN):
            return Val(-v.sql, kind)
        if kind == JSON_FORM:
            return Val(-self.d.json_number(v.sql, REAL), REAL)
        raise error(f"cannot negate a {kind} value", e)

    def binary(self, e: ast.Binary) -> AnyVal:
        """Logic, comparisons, string operators and arithmetic."""
        op = e.op
        if op in ("and", "or"):
            return self.logic(e)
        left, right = self.compile(e.left), self.compile(e.right)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return self.compare(op, left, right, e)
        if op in ("=~", "!~"):
            return self.equals_ci(left, right, op == "!~", e)
        if op in ("+", "-", "*", "/", "%"):
            return self.arithmetic(op, self.plain(left), self.plain(right), e)
        return self.string_op(op, left, right, e)

    def logic(self, e: ast.Binary) -> Val:
        """``and``/``or`` with constant folding."""
        left = self.value(e.left)
        if left.is_const and isinstance(left.const, bool):
            if left.const == (e.op == "or"):
                return self.d.literal(left.const, BOOL)
            right = self.value(e.right)
            return right if right.type == BOOL else Val(self.as_bool(right, e.right), BOOL)
        right = self.value(e.right)
        if right.is_const and isinstance(right.const, bool):
            if right.const == (e.op == "or"):
                return self.d.literal(right.const, BOOL)
            return left if left.type == BOOL else Val(self.as_bool(left, e.left), BOOL)
        a, b = self.as_bool(left, e.left), self.as_bool(right, e.right)
        return Val(and_(a, b) if e.op == "and" else or_(a, b), BOOL)

    def _kind(self, v: AnyVal) -> str:
        return v.scalar_type if isinstance(v, Val) else JSON_FORM

    def compare(self, op: str, left: AnyVal, right: AnyVal, at: ast.Expr) -> Val:
        """``== != < <= > >=`` with Kusto's conversions."""
        if isinstance(left, Val) and isinstance(right, Val) and left.is_const and right.is_const:
            folded = _fold_compare(op, left.const, right.const)
            if folded is not None:
                return self.d.literal(folded, BOOL)
        kinds = {self._kind(left), self._kind(right)}
        if DATETIME in kinds:
            a, b = self.as_datetime(left, at), self.as_datetime(right, at)
        elif kinds & set(NUMERIC) or TIMESPAN in kinds:
            target = REAL if REAL in kinds or TIMESPAN in kinds or JSON_FORM in kinds or STRING in kinds else LONG
            a, b = self.as_number(left, target, at), self.as_number(right, target, at)
        elif BOOL in kinds:
            a, b = self.as_bool(left, at), self.as_bool(right, at)
        else:
            a, b = self.as_text(left), self.as_text(right)
            if op == "!=" or _empty_const(left) or _empty_const(right):
                a, b = func.coalesce(a, ""), func.coalesce(b, "")
        return Val(_compare_sql(op, a, b), BOOL)

    def equals_ci(self, left: AnyVal, right: AnyVal, negated: bool, at: ast.Expr) -> Val:
        """``=~`` / ``!~``: equal ignoring case."""
        if isinstance(left, Val) and isinstance(right, Val) and left.is_const and right.is_const:
            same = str(left.const).lower() == str(right.const).lower()
            return self.d.literal(same != negated, BOOL)
        a, b = func.lower(self.as_text(left)), func.lower(self.as_text(right))
        if negated:
            return Val(func.coalesce(a, "") != func.coalesce(b, ""), BOOL)
        return Val(a == b, BOOL)

    def string_op(self, op: str, left: AnyVal, right: AnyVal, at: ast.Binary) -> Val:
        """contains, has, startswith, endswith (``_cs``: case-sensitive; ``!``: negated), matches regex."""
        if op == "matches regex":
            pattern = self.const_string(right, at.right, "a regular expression")
            check_regex(pattern, at.right)
            return Val(self.d.regex_match(self.as_text(left), pattern), BOOL)
        negated = op.startswith("!")
        name = op.lstrip("!")
        sensitive = name.endswith("_cs")
        name = name.removesuffix("_cs")
        text = self.as_text(left)
        if negated:
            text = func.coalesce(text, "")
        if isinstance(left, Val) and isinstance(right, Val) and left.is_const and right.is_const:
            result = _fold_string(name, str(left.const), str(right.const), sensitive)
            return self.d.literal(result != negated, BOOL)
        if name in ("has", "hasprefix", "hassuffix"):
            if not (isinstance(right, Val) and right.is_const):
                raise error(f"the right side of {op} must be a constant term", at.right)
            term = re.escape(str(right.const))
            before = f"(^|[^{WORD}])" if name in ("has", "hasprefix") else ""
            after = f"($|[^{WORD}])" if name in ("has", "hassuffix") else ""
            pattern = ("" if sensitive else "(?i)") + before + term + after
            sql = self.d.regex_match(text, pattern)
        else:
            needle = self.as_text(right)
            if not sensitive:
                text, needle = func.lower(text), func.lower(needle)
            fn: Callable[[ColumnElement[Any], ColumnElement[Any]], ColumnElement[Any]] = {
                "contains": self.d.contains, "startswith": self.d.starts_with, "endswith": self.d.ends_with}[name]
            sql = fn(text, needle)
        return Val(not_(sql) if negated else sql, BOOL)

    def in_list(self, e: ast.InList) -> Val:
        """``in``, ``!in``, ``in~``, ``!in~``; a dynamic array constant among the items is expanded."""
        left = self.compile(e.left)
        items: list[Val] = []
        for item in e.items:
            v = self.value(item)
            if v.is_const and isinstance(v.const, list):
                items += [self.d.literal(x, _type_of(x)) for x in v.const if x is not None]
            else:
                items.append(v)
        negated = e.op.startswith("!")
        insensitive = e.op.endswith("~")
        if not items:
            return self.d.literal(negated, BOOL)
        if isinstance(left, Val) and left.is_const and all(i.is_const for i in items):
            def norm(x: Any) -> Any:
                return x.lower() if insensitive and isinstance(x, str) else x

            found = norm(left.const) in [norm(i.const) for i in items]
            return self.d.literal(found != negated, BOOL)
        numeric = all(i.scalar_type in NUMERIC for i in items) and not insensitive
        if numeric:
            target = REAL if any(i.scalar_type == REAL for i in items) else LONG
            probe = self.as_number(left, target, e.left)
            values = [self.as_number(i, target, e) for i in items]
        else:
            probe = self.as_text(left)
            values = [self.as_text(i) for i in items]
            if insensitive:
                probe, values = func.lower(probe), [func.lower(v) for v in values]
            if negated:
                probe = func.coalesce(probe, "")
        sql = probe.in_(values)
        return Val(not_(sql) if negated else sql, BOOL)

    def between(self, e: ast.Between) -> Val:
        """``x between (low .. high)``, inclusive."""
        left, low, high = self.compile(e.left), self.compile(e.low), self.compile(e.high)
        sql = and_(self.compare(">=", left, low, e).sql, self.compare("<=", left, high, e).sql)
        return Val(not_(sql) if e.negated else sql, BOOL)

    def arithmetic(self, op: str, left: Val, right: Val, at: ast.Binary) -> Val:
        """``+ - * / %`` over numbers, datetimes and timespans."""
        lk, rk = left.scalar_type, right.scalar_type
        if left.is_const and right.is_const:
            folded = _fold_arithmetic(op, left.const, right.const)
            if folded is not None:
                return self.d.literal(folded, _type_of(folded))
        if lk == DATETIME or rk == DATETIME:
            if op == "-" and lk == DATETIME and rk == DATETIME:
                return Val(self.d.epoch(left.sql) - self.d.epoch(right.sql), TIMESPAN)
            if op in ("+", "-") and lk == DATETIME and rk == TIMESPAN:
                return Val(self.d.add_seconds(left.sql, right.sql if op == "+" else -right.sql), DATETIME)
            if op == "+" and lk == TIMESPAN and rk == DATETIME:
                return Val(self.d.add_seconds(right.sql, left.sql), DATETIME)
            raise error(f"cannot apply {op!r} to {lk} and {rk}", at)
        if STRING in (lk, rk) and JSON_FORM not in (lk, rk):
            raise error(f"cannot apply {op!r} to strings (use strcat() to join them)", at)
        if TIMESPAN in (lk, rk):
            a, b = self.as_number(left, REAL, at.left), self.as_number(right, REAL, at.right)
            return Val(_arith(op, a, b), TIMESPAN if op in ("+", "-", "*") or lk != rk else REAL)
        target = LONG if lk == LONG and rk == LONG else REAL
        a, b = self.as_number(left, target, at.left), self.as_number(right, target, at.right)
        if op == "%" and target == REAL:
            a, b = self._truncate(a), self._truncate(b)
            target = LONG
        return Val(_arith(op, a, b), target)

    # ------------------------------------------------------------ helpers for functions

    def const_string(self, v: AnyVal, at: ast.Expr, what: str) -> str:
        """A constant string argument."""
        if isinstance(v, Val) and v.is_const and isinstance(v.const, str):
            return v.const
        raise error(f"{what} must be a constant string", at)

    def const_value(self, e: ast.Expr, what: str) -> Any:
        """A constant argument."""
        v = self.value(e)
        if not v.is_const:
            raise error(f"{what} must be a constant", e)
        return v.const


def check_regex(pattern: str, at: ast.Expr) -> None:
    """Refuse a pattern Python cannot compile (the same patterns work in PostgreSQL's ARE in practice)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise error(f"bad regular expression: {exc}", at) from None


def _column_pos(e: ast.Expr) -> ast.Pos:
    node = e
    while isinstance(node, ast.Member | ast.Index | ast.Call):
        if isinstance(node, ast.Call):
            if not node.args:
                break
            node = node.args[0]
        else:
            node = node.obj
    return node.pos


def _is_dynamic(v: AnyVal) -> bool:
    return not isinstance(v, Val) or v.type == DYNAMIC


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return LONG
    if isinstance(value, float):
        return REAL
    if isinstance(value, datetime):
        return DATETIME
    if isinstance(value, timedelta):
        return TIMESPAN
    if isinstance(value, str):
        return STRING
    return DYNAMIC


def _empty_const(v: AnyVal) -> bool:
    return isinstance(v, Val) and v.is_const and v.const == ""


def _compare_sql(op: str, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _fold_compare(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        # Kusto: a comparison with null is false, except != with a value
        return op == "!=" and (a is not None or b is not None)
    if type(a) is not type(b) and not (
            isinstance(a, int | float) and isinstance(b, int | float)):
        return None
    try:
        return bool({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except TypeError:
        return None


def _fold_string(name: str, text: str, term: str, sensitive: bool) -> bool:
    if not sensitive:
        text, term = text.lower(), term.lower()
    if name == "contains":
        return term in text
    if name == "startswith":
        return text.startswith(term)
    if name == "endswith":
        return text.endswith(term)
    before = f"(^|[^{WORD}])" if name in ("has", "hasprefix") else ""
    after = f"($|[^{WORD}])" if name in ("has", "hassuffix") else ""
    return re.search(before + re.escape(term) + after, text) is not None


def _fold_arithmetic(op: str, a: Any, b: Any) -> Any:
    try:
        if isinstance(a, datetime) and isinstance(b, timedelta) and op in ("+", "-"):
            return a + b if op == "+" else a - b
        if isinstance(a, datetime) and isinstance(b, datetime) and op == "-":
            return a - b
        if isinstance(a, timedelta) and isinstance(b, timedelta) and op in ("+", "-"):
            return a + b if op == "+" else a - b
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) \
                and not isinstance(b, bool):
            if op == "/" and isinstance(a, int) and isinstance(b, int):
                return int(a / b) if b else None
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None,
                    "%": a % b if b else None}[op]
    except (OverflowError, TypeError):
        return None
    return None


def _arith(op: str, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a % b
