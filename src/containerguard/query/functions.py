"""KQL's scalar and aggregate functions, each a small compiler to SQL."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Integer, case, cast, func, not_, or_

from . import ast
from .dialects import split_flags
from .expressions import Scope, check_regex, error
from .values import BOOL, DATETIME, DYNAMIC, JSON_FORM, LONG, NUMERIC, REAL, STRING, TIMESPAN, AnyVal, Arr, DocVal, Val

ScalarFn = Callable[[Scope, ast.Call], AnyVal]
SCALARS: dict[str, ScalarFn] = {}


def scalar(*names: str) -> Callable[[ScalarFn], ScalarFn]:
    """Register a scalar function under ``names``."""

    def wrap(fn: ScalarFn) -> ScalarFn:
        for name in names:
            SCALARS[name] = fn
        return fn

    return wrap


def _arity(call: ast.Call, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(call.args) <= high:
        wanted = f"{low}" if low == high else f"{low} to {high}"
        raise error(f"{call.name}() takes {wanted} argument(s), got {len(call.args)}", call)


def call(scope: Scope, c: ast.Call) -> AnyVal:
    """Compile a function call."""
    fn = SCALARS.get(c.name)
    if fn is None:
        if c.name in AGGREGATES:
            raise error(f"{c.name}() is an aggregate: use it in summarize", c)
        raise error(f"unknown function {c.name}()", c)
    return fn(scope, c)


# ---------------------------------------------------------------- conversions


@scalar("tostring")
def _tostring(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    v = s.compile(c.args[0])
    if isinstance(v, Val) and v.is_const and isinstance(v.const, str):
        return v if v.type == STRING else s.d.literal(v.const, STRING)
    return Val(func.coalesce(s.as_text(v), s.d.text("")), STRING)


@scalar("toint", "tolong")
def _tolong(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(s.as_number(s.compile(c.args[0]), LONG, c.args[0]), LONG)


@scalar("toreal", "todouble", "todecimal")
def _toreal(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(s.as_number(s.compile(c.args[0]), REAL, c.args[0]), REAL)


@scalar("tobool", "toboolean")
def _tobool(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(s.as_bool(s.compile(c.args[0]), c.args[0]), BOOL)


@scalar("todatetime")
def _todatetime(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(s.as_datetime(s.compile(c.args[0]), c.args[0]), DATETIME)


@scalar("parse_json", "todynamic")
def _parse_json(s: Scope, c: ast.Call) -> AnyVal:
    _arity(c, 1)
    v = s.compile(c.args[0])
    if not isinstance(v, Val) or v.type == DYNAMIC:
        return v
    if v.type == STRING:
        return Val(s.d.json_parse(v.sql), DYNAMIC, JSON_FORM)
    return Val(v.sql, DYNAMIC, v.type, dt=v.dt)


# ---------------------------------------------------------------- strings


@scalar("strlen")
def _strlen(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(func.length(s.as_text(s.compile(c.args[0]))), LONG)


@scalar("tolower")
def _tolower(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(func.lower(s.as_text(s.compile(c.args[0]))), STRING)


@scalar("toupper")
def _toupper(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(func.upper(s.as_text(s.compile(c.args[0]))), STRING)


@scalar("strcat")
def _strcat(s: Scope, c: ast.Call) -> Val:
    if not c.args:
        raise error("strcat() needs at least one argument", c)
    parts = [func.coalesce(s.as_text(s.compile(a)), s.d.text("")) for a in c.args]
    return Val(s.d.concat(*parts), STRING)


@scalar("substring")
def _substring(s: Scope, c: ast.Call) -> Val:
    _arity(c, 2, 3)
    text = s.as_text(s.compile(c.args[0]))
    start = cast(s.as_number(s.compile(c.args[1]), LONG, c.args[1]) + 1, Integer)
    if len(c.args) == 3:
        length = cast(s.as_number(s.compile(c.args[2]), LONG, c.args[2]), Integer)
        return Val(func.substr(text, start, length), STRING)
    return Val(func.substr(text, start), STRING)


@scalar("replace_string")
def _replace_string(s: Scope, c: ast.Call) -> Val:
    _arity(c, 3)
    text, old, new = (s.as_text(s.compile(a)) for a in c.args)
    return Val(func.replace(text, old, new), STRING)


@scalar("extract")
def _extract(s: Scope, c: ast.Call) -> Val:
    _arity(c, 3)
    pattern = s.const_string(s.compile(c.args[0]), c.args[0], "extract()'s regular expression")
    check_regex(pattern, c.args[0])
    group = s.const_value(c.args[1], "extract()'s capture group")
    if not isinstance(group, int) or isinstance(group, bool) or group < 0:
        raise error("extract()'s capture group must be a whole number >= 0", c.args[1])
    import re

    groups = re.compile(split_flags(pattern)[1]).groups
    if group > groups:
        raise error(f"the regular expression has {groups} capture group(s), not {group}", c.args[1])
    return Val(s.d.regex_extract(s.as_text(s.compile(c.args[2])), pattern, group), STRING)


# ---------------------------------------------------------------- logic and emptiness


def _unify(s: Scope, values: list[Val]) -> tuple[str, str | None, list[ColumnElement[Any]]]:
    """A common type for the branches of iff/case/coalesce: (type, form, sql of each)."""
    def is_null(v: Val) -> bool:
        return v.is_const and v.const is None

    real = [v for v in values if not is_null(v)]
    kinds = {(v.type, v.form) for v in real}
    if len(kinds) == 1:
        kind, form = kinds.pop()
        return kind, form, [s.d.null(form or kind) if is_null(v) else v.sql for v in values]
    if real and all(v.type in NUMERIC for v in real):
        return REAL, None, [s.d.null(REAL) if is_null(v) else cast(v.sql, Float) for v in values]
    return DYNAMIC, JSON_FORM, [s.d.null(JSON_FORM) if is_null(v) else s.as_json(v) for v in values]


@scalar("iff", "iif")
def _iff(s: Scope, c: ast.Call) -> Val:
    _arity(c, 3)
    cond = s.compile(c.args[0])
    if isinstance(cond, Val) and cond.is_const and isinstance(cond.const, bool):
        return s.value(c.args[1] if cond.const else c.args[2])
    test = s.as_bool(cond, c.args[0])
    kind, form, (yes, no) = _unify(s, [s.value(c.args[1]), s.value(c.args[2])])
    return Val(case((test, yes), else_=no), kind, form)


@scalar("case")
def _case(s: Scope, c: ast.Call) -> Val:
    if len(c.args) < 3 or len(c.args) % 2 == 0:
        raise error("case() takes condition, value pairs and a final else value", c)
    tests = [s.as_bool(s.compile(a), a) for a in c.args[0:-1:2]]
    kind, form, values = _unify(s, [s.value(a) for a in (*c.args[1:-1:2], c.args[-1])])
    return Val(case(*zip(tests, values[:-1], strict=True), else_=values[-1]), kind, form)


@scalar("coalesce")
def _coalesce(s: Scope, c: ast.Call) -> Val:
    if len(c.args) < 2:
        raise error("coalesce() takes at least two arguments", c)
    kind, form, values = _unify(s, [s.value(a) for a in c.args])
    return Val(func.coalesce(*values), kind, form)


@scalar("not")
def _not(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    v = s.compile(c.args[0])
    if isinstance(v, Val) and v.is_const and isinstance(v.const, bool):
        return s.d.literal(not v.const, BOOL)
    return Val(not_(s.as_bool(v, c.args[0])), BOOL)


def _empty(s: Scope, v: AnyVal) -> ColumnElement[Any]:
    if isinstance(v, DocVal):
        return s.d.boolean(False)
    if isinstance(v, Val) and v.scalar_type in (STRING, JSON_FORM):
        text = s.as_text(v)
        return or_(text.is_(None), text == s.d.text(""))
    plain = s.plain(v)
    return plain.sql.is_(None)


@scalar("isempty")
def _isempty(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(_empty(s, s.compile(c.args[0])), BOOL)


@scalar("isnotempty")
def _isnotempty(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(not_(_empty(s, s.compile(c.args[0]))), BOOL)


def _null(s: Scope, v: AnyVal) -> ColumnElement[Any]:
    if isinstance(v, DocVal):
        return s.d.boolean(False)
    plain = s.plain(v)
    if plain.scalar_type == JSON_FORM:
        return or_(plain.sql.is_(None), s.d.json_typeof(plain.sql) == s.d.text("null"))
    return plain.sql.is_(None)


@scalar("isnull")
def _isnull(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(_null(s, s.compile(c.args[0])), BOOL)


@scalar("isnotnull")
def _isnotnull(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    return Val(not_(_null(s, s.compile(c.args[0]))), BOOL)


# ---------------------------------------------------------------- dynamic


@scalar("array_length")
def _array_length(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    v = s.compile(c.args[0])
    if isinstance(v, DocVal):
        size = len(v.node.items) if isinstance(v.node, Arr) else None
        return s.d.literal(size, LONG) if size is not None else Val(s.d.null(LONG), LONG, const=None)
    plain = s.plain(v)
    if plain.scalar_type != JSON_FORM:
        return Val(s.d.null(LONG), LONG, const=None)
    return Val(s.d.json_length(plain.sql), LONG)


@scalar("gettype")
def _gettype(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    v = s.compile(c.args[0])
    if isinstance(v, DocVal):
        return s.d.literal("array" if isinstance(v.node, Arr) else "dictionary", STRING)
    plain = s.plain(v)
    if plain.scalar_type == JSON_FORM:
        kind = s.d.json_typeof(plain.sql)
        return Val(case((kind == "object", s.d.text("dictionary")), (kind == "number", s.d.text("real")),
                        (kind == "boolean", s.d.text("bool")), else_=kind), STRING)
    names = {STRING: "string", LONG: "long", REAL: "real", BOOL: "bool", DATETIME: "datetime", TIMESPAN: "timespan"}
    return s.d.literal(names.get(plain.scalar_type, "string"), STRING)


# ---------------------------------------------------------------- numbers and time


@scalar("abs")
def _abs(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    v = s.value(c.args[0])
    kind = v.scalar_type if v.scalar_type in (*NUMERIC, TIMESPAN) else REAL
    return Val(func.abs(s.as_number(v, LONG if kind == LONG else REAL, c.args[0])), kind)


@scalar("round")
def _round(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1, 2)
    v = s.as_number(s.compile(c.args[0]), REAL, c.args[0])
    digits = s.const_value(c.args[1], "round()'s precision") if len(c.args) == 2 else 0
    if not isinstance(digits, int):
        raise error("round()'s precision must be a whole number", c.args[1])
    if s.d.name == "postgresql":
        from sqlalchemy import Numeric

        return Val(cast(func.round(cast(v, Numeric), digits), Float), REAL)
    return Val(func.round(v, digits), REAL)


@scalar("now")
def _now(s: Scope, c: ast.Call) -> Val:
    _arity(c, 0, 1)
    offset = s.const_value(c.args[0], "now()'s offset") if c.args else timedelta(0)
    if not isinstance(offset, timedelta):
        raise error("now()'s offset must be a timespan (1d, 2h …)", c.args[0])
    return s.d.literal(s.now + offset, DATETIME)


@scalar("ago")
def _ago(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    span = s.const_value(c.args[0], "ago()'s timespan")
    if not isinstance(span, timedelta):
        raise error("ago() takes a timespan (1d, 2h, 30m …)", c.args[0])
    return s.d.literal(s.now - span, DATETIME)


@scalar("bin", "floor")
def _bin(s: Scope, c: ast.Call) -> Val:
    _arity(c, 2)
    v = s.value(c.args[0])
    size = s.const_value(c.args[1], f"{c.name}()'s bin size")
    if v.scalar_type == DATETIME or v.dt is not None or isinstance(size, timedelta):
        if not isinstance(size, timedelta) or size.total_seconds() <= 0:
            raise error(f"{c.name}() of a datetime takes a positive timespan (1d, 1h …)", c.args[1])
        seconds = size.total_seconds()
        epoch = s.d.epoch(s.as_datetime(v, c.args[0]))
        step = s.d.real(seconds)
        return Val(s.d.from_epoch(s.d.floor(epoch / step) * step), DATETIME)
    if not isinstance(size, int | float) or isinstance(size, bool) or size <= 0 or math.isnan(size):
        raise error(f"{c.name}()'s bin size must be a positive number", c.args[1])
    kind = LONG if v.scalar_type == LONG and isinstance(size, int) else REAL
    number = s.as_number(v, kind, c.args[0])
    step_sql = s.d.long(size) if kind == LONG and isinstance(size, int) else s.d.real(float(size))
    if kind == LONG:
        return Val(cast(s.d.floor(cast(number, Float) / step_sql), BigInteger) * step_sql, LONG)
    return Val(cast(s.d.floor(number / step_sql), Float) * step_sql, REAL)


@scalar("startofday")
def _startofday(s: Scope, c: ast.Call) -> Val:
    _arity(c, 1)
    day = s.d.real(86400.0)
    epoch = s.d.epoch(s.as_datetime(s.compile(c.args[0]), c.args[0]))
    return Val(s.d.from_epoch(s.d.floor(epoch / day) * day), DATETIME)


# ---------------------------------------------------------------- aggregates


@dataclass(frozen=True)
class Aggregate:
    """An aggregate: its arity, how it names its column, and its SQL over rebuilt argument values."""

    arity: tuple[int, int]
    prefix: str
    build: Callable[[Scope, list[Val], ast.Call], Val]


def _count(s: Scope, args: list[Val], c: ast.Call) -> Val:
    return Val(func.count(), LONG)


def _countif(s: Scope, args: list[Val], c: ast.Call) -> Val:
    return Val(func.count(case((s.as_bool(args[0], c.args[0]), 1))), LONG)


def _dcount(s: Scope, args: list[Val], c: ast.Call) -> Val:
    return Val(func.count(args[0].sql.distinct()), LONG)


def _sum(s: Scope, args: list[Val], c: ast.Call) -> Val:
    v = args[0]
    if v.scalar_type == LONG:
        return Val(cast(func.sum(v.sql), BigInteger), LONG)
    if v.scalar_type == TIMESPAN:
        return Val(func.sum(v.sql), TIMESPAN)
    return Val(cast(func.sum(s.as_number(v, REAL, c.args[0])), Float), REAL)


def _avg(s: Scope, args: list[Val], c: ast.Call) -> Val:
    v = args[0]
    return Val(cast(func.avg(s.as_number(v, REAL, c.args[0])), Float), TIMESPAN if v.type == TIMESPAN else REAL)


def _minmax(name: str) -> Callable[[Scope, list[Val], ast.Call], Val]:
    def build(s: Scope, args: list[Val], c: ast.Call) -> Val:
        v = args[0]
        fn = func.min if name == "min" else func.max
        if v.type == DYNAMIC and v.form == JSON_FORM and s.d.name == "sqlite":
            # SQLite JSON is text; min/max of JSON numbers as numbers, anything else as text.
            return Val(fn(s.d.json_number(v.sql, REAL)), REAL)
        return Val(fn(v.sql), v.type, v.form)

    return build


def _make(distinct: bool) -> Callable[[Scope, list[Val], ast.Call], Val]:
    def build(s: Scope, args: list[Val], c: ast.Call) -> Val:
        return Val(s.d.json_agg(args[0], distinct), DYNAMIC, JSON_FORM)

    return build


def _any(s: Scope, args: list[Val], c: ast.Call) -> Val:
    v = args[0]
    return Val(func.max(v.sql), v.type, v.form)


AGGREGATES: dict[str, Aggregate] = {
    "count": Aggregate((0, 0), "count_", _count),
    "countif": Aggregate((1, 1), "countif_", _countif),
    "dcount": Aggregate((1, 1), "dcount_", _dcount),
    "sum": Aggregate((1, 1), "sum_", _sum),
    "avg": Aggregate((1, 1), "avg_", _avg),
    "min": Aggregate((1, 1), "min_", _minmax("min")),
    "max": Aggregate((1, 1), "max_", _minmax("max")),
    "make_list": Aggregate((1, 1), "list_", _make(False)),
    "make_set": Aggregate((1, 1), "set_", _make(True)),
    "take_any": Aggregate((1, 1), "any_", _any),
    "any": Aggregate((1, 1), "any_", _any),
}


def aggregate_name(c: ast.Call) -> str:
    """Kusto's column name of an unnamed aggregate: ``count_``, ``dcount_x``, ``max_properties_a``."""
    from .needs import derived_name

    agg = AGGREGATES[c.name]
    if c.name in ("count", "countif"):
        return agg.prefix
    return agg.prefix + (derived_name(c.args[0]) if c.args else "")
