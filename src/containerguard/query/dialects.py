"""The SQL of each database for what KQL needs: literals, JSON building and paths, conversions, string
matching, regular expressions and time.

Every constant the query brings is a bound parameter (on PostgreSQL cast to its type, so functions with
``"any"`` arguments such as ``jsonb_build_object`` know it); nothing from a query is spliced into SQL.
SQLite represents JSON as text and timestamps as SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` text;
PostgreSQL uses ``jsonb`` and ``timestamptz``. SQLite has no regular expressions: the runner registers
``cg_regexp``/``cg_extract`` (Python's ``re``) on the connection.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine

from containerguard.store.tables import UtcDateTime

from .values import BOOL, DATETIME, DYNAMIC, JSON_FORM, LONG, REAL, STRING, TIMESPAN, Path, Val

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_LEADING_FLAGS = re.compile(r"^\(\?([a-zA-Z]+)\)")
TEXT = Text()


def split_flags(pattern: str) -> tuple[str, str]:
    """A regex's leading inline flags ``(?i)`` and its body."""
    match = _LEADING_FLAGS.match(pattern)
    return (match.group(0), pattern[match.end():]) if match else ("", pattern)


class Dialect(ABC):
    """SQL building blocks of one database."""

    name: str

    # ------------------------------------------------------------ literals

    @abstractmethod
    def text(self, value: str) -> ColumnElement[Any]:
        """A string parameter."""

    @abstractmethod
    def long(self, value: int) -> ColumnElement[Any]:
        """A long parameter."""

    @abstractmethod
    def real(self, value: float) -> ColumnElement[Any]:
        """A real parameter."""

    def boolean(self, value: bool) -> ColumnElement[Any]:
        """A bool constant."""
        return true() if value else false()

    @abstractmethod
    def timestamp(self, value: datetime) -> ColumnElement[Any]:
        """A datetime parameter (UTC)."""

    @abstractmethod
    def null(self, form: str) -> ColumnElement[Any]:
        """A typed null of ``form`` (a scalar type or ``json``)."""

    def literal(self, value: Any, ktype: str) -> Val:
        """A constant as a value."""
        if value is None:
            return Val(self.null(JSON_FORM if ktype == DYNAMIC else ktype), ktype,
                       JSON_FORM if ktype == DYNAMIC else None, const=None)
        if ktype == STRING:
            return Val(self.text(value), STRING, const=value)
        if ktype == LONG:
            return Val(self.long(value), LONG, const=value)
        if ktype == REAL:
            return Val(self.real(value), REAL, const=value)
        if ktype == BOOL:
            return Val(self.boolean(value), BOOL, const=value)
        if ktype == DATETIME:
            return Val(self.timestamp(value), DATETIME, const=value)
        if ktype == TIMESPAN:
            return Val(self.real(value.total_seconds()), TIMESPAN, const=value)
        return Val(self.json_literal(value), DYNAMIC, JSON_FORM, const=value)

    @abstractmethod
    def json_literal(self, value: Any) -> ColumnElement[Any]:
        """A dynamic constant (list, dict, scalar) as JSON."""

    # ------------------------------------------------------------ JSON

    @abstractmethod
    def json_column(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON column of a table as this dialect's JSON."""

    @abstractmethod
    def json_object(self, pairs: list[tuple[ColumnElement[Any], ColumnElement[Any]]]) -> ColumnElement[Any]:
        """An object from (key, member) pairs; members prepared with :meth:`json_arg`."""

    @abstractmethod
    def json_array(self, items: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        """An array of members prepared with :meth:`json_arg`."""

    @abstractmethod
    def json_arg(self, val: Val) -> ColumnElement[Any]:
        """``val`` as a member of :meth:`json_object`/:meth:`json_array`."""

    @abstractmethod
    def to_json(self, val: Val) -> ColumnElement[Any]:
        """``val`` as JSON."""

    @abstractmethod
    def json_get(self, j: ColumnElement[Any], path: Path) -> ColumnElement[Any]:
        """The JSON at ``path`` of ``j`` (NULL when missing)."""

    @abstractmethod
    def json_get_dynamic(self, j: ColumnElement[Any], key: Val) -> ColumnElement[Any]:
        """``j[key]`` with a computed string key or long index."""

    @abstractmethod
    def json_text(self, j: ColumnElement[Any], path: Path = ()) -> ColumnElement[Any]:
        """``tostring()`` of the JSON at ``path`` of ``j``: strings unquoted, numbers and bools as text,
        objects and arrays as JSON text, null as NULL."""

    @abstractmethod
    def json_typeof(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        """``string``, ``number``, ``boolean``, ``object``, ``array`` or ``null`` (NULL when missing)."""

    @abstractmethod
    def json_number(self, j: ColumnElement[Any], ktype: str) -> ColumnElement[Any]:
        """The JSON as a long or real (numbers, numeric strings, bools as 1/0; else NULL)."""

    @abstractmethod
    def json_bool(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        """The JSON as a bool (true/false, "true"/"false", numbers: non-zero)."""

    @abstractmethod
    def json_length(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        """The length of a JSON array (NULL for anything else)."""

    @abstractmethod
    def json_parse(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        """``parse_json(text)``: JSON text as JSON, anything else as a JSON string."""

    @abstractmethod
    def json_agg(self, val: Val, distinct: bool) -> ColumnElement[Any]:
        """``make_list``/``make_set``: the values of a group as a JSON array."""

    @abstractmethod
    def as_array(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        """For mv-expand: an array as is, an object as an array of one-member objects, null as
        ``[null]``, any other value as a one-element array."""

    @abstractmethod
    def each(self, j: ColumnElement[Any], name: str) -> tuple[FromClause, ColumnElement[Any]]:
        """A table of the elements of the JSON array ``j`` (joined laterally, ``ON true``) and the
        element as JSON."""

    @abstractmethod
    def expand(self, j: ColumnElement[Any], name: str
               ) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
        """mv-expand: a lateral table of the elements of :meth:`as_array` of ``j``, the element as JSON
        and its 0-based index."""

    @abstractmethod
    def map_array(self, j: ColumnElement[Any],
                  fn: Callable[[ColumnElement[Any]], ColumnElement[Any]]) -> ColumnElement[Any]:
        """``[fn(e) for e in j]`` (``j`` a JSON array or NULL; ``fn`` builds a JSON member)."""

    @abstractmethod
    def json_merge(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """``{**a, **b}`` of two JSON objects."""

    # ------------------------------------------------------------ text

    def concat(self, *parts: ColumnElement[Any]) -> ColumnElement[Any]:
        """``a || b || ...``."""
        out = parts[0]
        for part in parts[1:]:
            out = out.op("||", return_type=Text)(part)
        return out

    def capitalize(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        """Python's ``str.capitalize`` (``HIGH`` -> ``High``)."""
        return self.concat(func.upper(func.substr(text, 1, 1)), func.lower(func.substr(text, 2)))

    @abstractmethod
    def iso(self, ts: ColumnElement[Any], zulu: bool = True) -> ColumnElement[Any]:
        """Python's ``ts.isoformat()`` of a UTC timestamp, ``+00:00`` replaced by ``Z`` when ``zulu``."""

    @abstractmethod
    def contains(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """Whether ``b`` occurs in ``a`` (case as given)."""

    @abstractmethod
    def starts_with(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """Whether ``a`` starts with ``b``."""

    @abstractmethod
    def ends_with(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """Whether ``a`` ends with ``b``."""

    @abstractmethod
    def regex_match(self, text: ColumnElement[Any], pattern: str) -> ColumnElement[Any]:
        """Whether the regular expression ``pattern`` (a constant) matches somewhere in ``text``."""

    @abstractmethod
    def regex_extract(self, text: ColumnElement[Any], pattern: str, group: int) -> ColumnElement[Any]:
        """Capture group ``group`` (0: the whole match) of the first match, NULL without one."""

    def before(self, text: ColumnElement[Any], sep: str) -> ColumnElement[Any]:
        """``text.split(sep, 1)[0]``."""
        at = func.instr(text, self.text(sep))
        return case((at > 0, func.substr(text, 1, at - 1)), else_=text)

    @abstractmethod
    def to_number(self, text: ColumnElement[Any], ktype: str) -> ColumnElement[Any]:
        """A text as a long (truncated) or real; NULL when it is not a number."""

    def to_text(self, val: Val) -> ColumnElement[Any]:
        """``tostring()`` of a scalar (not dynamic) value."""
        if val.type == STRING:
            return val.sql
        if val.type == BOOL:
            return case((val.sql, self.text("true")), (~val.sql, self.text("false")))
        if val.type == DATETIME:
            return self.iso(val.sql)
        return cast(val.sql, Text)

    def floor(self, x: ColumnElement[Any]) -> ColumnElement[Any]:
        """The largest whole number not above ``x`` (NULL stays NULL)."""
        return func.floor(x)

    # ------------------------------------------------------------ time

    @abstractmethod
    def epoch(self, ts: ColumnElement[Any]) -> ColumnElement[Any]:
        """Seconds since 1970 (real) of a timestamp."""

    @abstractmethod
    def from_epoch(self, seconds: ColumnElement[Any]) -> ColumnElement[Any]:
        """The timestamp of seconds since 1970."""

    @abstractmethod
    def parse_timestamp(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        """An ISO-8601 text as a timestamp (NULL when unreadable)."""

    def add_seconds(self, ts: ColumnElement[Any], seconds: ColumnElement[Any]) -> ColumnElement[Any]:
        """``ts + seconds``."""
        return self.from_epoch(self.epoch(ts) + seconds)

    # ------------------------------------------------------------ misc

    def sort_key(self, sql: ColumnElement[Any], form: str) -> ColumnElement[Any]:
        """What ORDER BY sorts on (PostgreSQL sorts strings bytewise, like SQLite)."""
        return sql

    def output(self, val: Val) -> ColumnElement[Any]:
        """The SQL of a result column: JSON as text, scalars as they are."""
        if val.type == DYNAMIC and val.scalar_type == JSON_FORM:
            return self.json_text_out(val.sql)
        return val.sql

    @abstractmethod
    def json_text_out(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        """JSON as compact JSON text for the result."""


class SqliteDialect(Dialect):
    """SQLite (3.38+: ``->``/``->>``)."""

    name = "sqlite"

    def text(self, value: str) -> ColumnElement[Any]:
        return literal(value, Text)

    def long(self, value: int) -> ColumnElement[Any]:
        return literal(value, BigInteger)

    def real(self, value: float) -> ColumnElement[Any]:
        return literal(value, Float)

    def timestamp(self, value: datetime) -> ColumnElement[Any]:
        return literal(value, UtcDateTime())

    def null(self, form: str) -> ColumnElement[Any]:
        return null()

    def json_literal(self, value: Any) -> ColumnElement[Any]:
        import json

        return func.json(literal(json.dumps(value), Text), type_=Text)

    @staticmethod
    def path(path: Path) -> str:
        """A JSON path text: ``$.a."b c"[0]``."""
        out = "$"
        for step in path:
            if isinstance(step, int):
                out += f"[{step}]" if step >= 0 else f"[#{step}]"
            elif _KEY.fullmatch(step):
                out += f".{step}"
            else:
                out += f'."{step}"'
        return out

    def json_column(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return type_coerce(column, Text)

    def json_object(self, pairs: list[tuple[ColumnElement[Any], ColumnElement[Any]]]) -> ColumnElement[Any]:
        args: list[ColumnElement[Any]] = []
        for key, value in pairs:
            args += [key, value]
        return func.json_object(*args, type_=Text)

    def json_array(self, items: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        return func.json_array(*items, type_=Text)

    def json_arg(self, val: Val) -> ColumnElement[Any]:
        kind = val.scalar_type
        if kind == JSON_FORM:
            return func.json(val.sql, type_=Text)
        if kind == BOOL:
            return func.json(case((val.sql, "true"), (~val.sql, "false")), type_=Text)
        if kind == DATETIME:
            return self.iso(val.sql)
        return val.sql

    def to_json(self, val: Val) -> ColumnElement[Any]:
        kind = val.scalar_type
        if kind == JSON_FORM:
            return val.sql
        if kind == BOOL:
            return case((val.sql, "true"), (~val.sql, "false"))
        sql = self.iso(val.sql) if kind == DATETIME else val.sql
        return case((sql.is_(None), null()), else_=func.json_quote(sql))

    def json_get(self, j: ColumnElement[Any], path: Path) -> ColumnElement[Any]:
        if not path:
            return j
        return j.op("->", return_type=Text)(literal(self.path(path), Text))

    def json_get_dynamic(self, j: ColumnElement[Any], key: Val) -> ColumnElement[Any]:
        step: ColumnElement[Any]
        if key.type == LONG:
            step = case((key.sql < 0, self.concat(self.text("$[#"), cast(key.sql, Text), self.text("]"))),
                        else_=self.concat(self.text("$["), cast(key.sql, Text), self.text("]")))
        else:
            step = self.concat(self.text('$."'), key.sql, self.text('"'))
        return j.op("->", return_type=Text)(step)

    def json_text(self, j: ColumnElement[Any], path: Path = ()) -> ColumnElement[Any]:
        kind = func.json_type(j, literal(self.path(path), Text))
        raw = j.op("->>", return_type=Text)(literal(self.path(path), Text))
        return case((kind == "true", "true"), (kind == "false", "false"), (kind == "null", null()),
                    else_=cast(raw, Text))

    def json_typeof(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        kind = func.json_type(j)
        return case((kind.in_(("integer", "real")), "number"), (kind.in_(("true", "false")), "boolean"),
                    (kind == "text", "string"), else_=kind)

    def json_number(self, j: ColumnElement[Any], ktype: str) -> ColumnElement[Any]:
        kind = func.json_type(j)
        raw = j.op("->>")(literal("$", Text))
        target = BigInteger if ktype == LONG else Float
        return case((kind.in_(("integer", "real")), cast(raw, target)),
                    (kind == "text", self.to_number(raw, ktype)),
                    (kind == "true", cast(literal(1), target)), (kind == "false", cast(literal(0), target)))

    def json_bool(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        kind = func.json_type(j)
        raw = j.op("->>")(literal("$", Text))
        return case((kind == "true", true()), (kind == "false", false()),
                    (and_(kind == "text", func.lower(raw) == "true"), true()),
                    (and_(kind == "text", func.lower(raw) == "false"), false()),
                    (kind.in_(("integer", "real")), raw != 0))

    def json_length(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((func.json_type(j) == "array", func.json_array_length(j)))

    def json_parse(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((func.json_valid(text) == 1, func.json(text)), else_=self.to_json(Val(text, STRING)))

    def json_agg(self, val: Val, distinct: bool) -> ColumnElement[Any]:
        arg = self.json_arg(val)
        return func.json_group_array(arg.distinct() if distinct else arg, type_=Text)

    def as_array(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        from sqlalchemy import select

        each = func.json_each(j).table_valued("key", "value", "type").alias("cg_bag")
        bag = select(func.json_group_array(func.json_object(each.c.key, self._element(each.c.type, each.c.value))))
        kind = func.json_type(j)
        return case((j.is_(None), "[null]"), (kind == "array", j),
                    (kind == "object", bag.select_from(each).scalar_subquery()),
                    else_=func.json_array(func.json(j)))

    @staticmethod
    def _element(kind: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A json_each row's value as JSON (json_each gives strings unquoted and true/false as 1/0)."""
        return func.json(case((kind == "true", "true"), (kind == "false", "false"), (kind == "null", "null"),
                              (kind.in_(("object", "array")), value), else_=func.json_quote(value)))

    def element(self, kind: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A json_each row's value as JSON."""
        return self._element(kind, value)

    def each(self, j: ColumnElement[Any], name: str) -> tuple[FromClause, ColumnElement[Any]]:
        table = func.json_each(j).table_valued("key", "value", "type", "fullkey").alias(name)
        return table, j.op("->", return_type=Text)(table.c.fullkey)

    def expand(self, j: ColumnElement[Any], name: str
               ) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
        table = func.json_each(self.as_array(j)).table_valued("key", "value", "type").alias(name)
        return table, self._element(table.c.type, table.c.value), cast(table.c.key, BigInteger)

    def map_array(self, j: ColumnElement[Any],
                  fn: Callable[[ColumnElement[Any]], ColumnElement[Any]]) -> ColumnElement[Any]:
        from sqlalchemy import select

        table = func.json_each(j).table_valued("key", "value", "type", "fullkey").alias("cg_item")
        element = j.op("->", return_type=Text)(table.c.fullkey)
        return select(func.json_group_array(fn(element), type_=Text)).select_from(table).scalar_subquery()

    def json_merge(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.json_patch(a, b, type_=Text)

    def iso(self, ts: ColumnElement[Any], zulu: bool = True) -> ColumnElement[Any]:
        micro = func.substr(ts, 21, 6)
        fraction = case((or_(func.length(ts) <= 19, micro == "000000"), ""), else_=self.concat(self.text("."), micro))
        return case((ts.is_(None), null()), else_=self.concat(
            func.substr(ts, 1, 10), self.text("T"), func.substr(ts, 12, 8), fraction,
            self.text("Z" if zulu else "+00:00")))

    def contains(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.instr(a, b) > 0

    def starts_with(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.substr(a, 1, func.length(b)) == b

    def ends_with(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return and_(func.length(a) >= func.length(b),
                    func.substr(a, func.length(a) - func.length(b) + 1) == b)

    def regex_match(self, text: ColumnElement[Any], pattern: str) -> ColumnElement[Any]:
        return func.cg_regexp(self.text(pattern), text, type_=Boolean) == 1

    def regex_extract(self, text: ColumnElement[Any], pattern: str, group: int) -> ColumnElement[Any]:
        return func.cg_extract(self.text(pattern), literal(group, Integer), text, type_=Text)

    def to_number(self, text: ColumnElement[Any], ktype: str) -> ColumnElement[Any]:
        target = BigInteger if ktype == LONG else Float
        number = func.cg_regexp(self.text(_NUMBER_TEXT), text) == 1
        return case((number, cast(cast(text, Float), target) if ktype == LONG else cast(text, Float)))

    def floor(self, x: ColumnElement[Any]) -> ColumnElement[Any]:
        # Not SQL's floor(): SQLAlchemy replaces it on SQLite connections by Python's math.floor, which
        # fails on NULL (and would run Python per row).
        whole = cast(x, BigInteger)
        return whole - case((whole > x, 1), else_=0)

    def epoch(self, ts: ColumnElement[Any]) -> ColumnElement[Any]:
        return (func.julianday(ts) - 2440587.5) * 86400.0

    def from_epoch(self, seconds: ColumnElement[Any]) -> ColumnElement[Any]:
        return type_coerce(self.concat(func.strftime("%Y-%m-%d %H:%M:%f", seconds, "unixepoch"), self.text("000")),
                           Text)

    def parse_timestamp(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.concat(func.strftime("%Y-%m-%d %H:%M:%f", text), self.text("000"))

    def json_text_out(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.json(j, type_=Text)


class PostgresDialect(Dialect):
    """PostgreSQL (``jsonb``)."""

    name = "postgresql"

    def text(self, value: str) -> ColumnElement[Any]:
        return cast(literal(value, Text), Text)

    def long(self, value: int) -> ColumnElement[Any]:
        return cast(literal(value, BigInteger), BigInteger)

    def real(self, value: float) -> ColumnElement[Any]:
        return cast(literal(value, Float), Float(precision=53))

    def timestamp(self, value: datetime) -> ColumnElement[Any]:
        from sqlalchemy import DateTime

        return cast(literal(value, UtcDateTime()), DateTime(timezone=True))

    def null(self, form: str) -> ColumnElement[Any]:
        from sqlalchemy import DateTime

        types: dict[str, TypeEngine[Any]] = {
            STRING: Text(), LONG: BigInteger(), REAL: Float(precision=53), BOOL: Boolean(),
            DATETIME: DateTime(timezone=True), TIMESPAN: Float(precision=53), JSON_FORM: JSONB()}
        return cast(null(), types.get(form, Text()))

    def json_literal(self, value: Any) -> ColumnElement[Any]:
        import json

        return cast(literal(json.dumps(value), Text), JSONB)

    def json_column(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(column, JSONB)

    def json_object(self, pairs: list[tuple[ColumnElement[Any], ColumnElement[Any]]]) -> ColumnElement[Any]:
        # jsonb_build_object takes at most 100 arguments: build big objects in parts and merge them.
        chunks = [pairs[i:i + 40] for i in range(0, len(pairs), 40)] or [[]]
        built: list[ColumnElement[Any]] = []
        for chunk in chunks:
            args: list[ColumnElement[Any]] = []
            for key, value in chunk:
                args += [key, value]
            built.append(func.jsonb_build_object(*args, type_=JSONB))
        out: ColumnElement[Any] = built[0]
        for more in built[1:]:
            out = out.op("||", return_type=JSONB)(more)
        return out

    def json_array(self, items: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        return func.jsonb_build_array(*items, type_=JSONB)

    def json_arg(self, val: Val) -> ColumnElement[Any]:
        kind = val.scalar_type
        if kind == DATETIME:
            return self.iso(val.sql)
        return val.sql

    def to_json(self, val: Val) -> ColumnElement[Any]:
        kind = val.scalar_type
        if kind == JSON_FORM:
            return val.sql
        sql = self.iso(val.sql) if kind == DATETIME else val.sql
        return func.to_jsonb(sql, type_=JSONB)

    def _step(self, step: str | int) -> ColumnElement[Any]:
        return cast(literal(step, Integer), Integer) if isinstance(step, int) else self.text(step)

    def json_get(self, j: ColumnElement[Any], path: Path) -> ColumnElement[Any]:
        out = j
        for step in path:
            out = out.op("->", return_type=JSONB)(self._step(step))
        return out

    def json_get_dynamic(self, j: ColumnElement[Any], key: Val) -> ColumnElement[Any]:
        step = cast(key.sql, Integer) if key.type == LONG else key.sql
        return j.op("->", return_type=JSONB)(step)

    def json_text(self, j: ColumnElement[Any], path: Path = ()) -> ColumnElement[Any]:
        steps = [str(s) for s in path]
        return j.op("#>>", return_type=Text)(cast(literal(steps, ARRAY(Text)), ARRAY(Text)))

    def json_typeof(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.jsonb_typeof(j, type_=Text)

    def json_number(self, j: ColumnElement[Any], ktype: str) -> ColumnElement[Any]:
        kind = func.jsonb_typeof(j)
        raw = self.json_text(j)
        one, zero = (self.long(1), self.long(0)) if ktype == LONG else (self.real(1.0), self.real(0.0))
        return case((kind == "number", self.to_number(raw, ktype)), (kind == "string", self.to_number(raw, ktype)),
                    (and_(kind == "boolean", raw == "true"), one), (and_(kind == "boolean", raw == "false"), zero))

    def json_bool(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        kind = func.jsonb_typeof(j)
        raw = func.lower(self.json_text(j))
        return case((and_(kind.in_(("boolean", "string")), raw == "true"), true()),
                    (and_(kind.in_(("boolean", "string")), raw == "false"), false()),
                    (kind == "number", cast(raw, Float(precision=53)) != 0))

    def json_length(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((func.jsonb_typeof(j) == "array", func.jsonb_array_length(j)))

    def json_parse(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        # PostgreSQL 15 has no safe text->jsonb: text that looks like JSON is cast (a malformed one is a
        # run-time error, reported as such); anything else becomes a JSON string, as in Kusto.
        looks = text.op("~", return_type=Boolean)(
            self.text(r'^\s*(\{|\[|"|-?[0-9]|true\s*$|false\s*$|null\s*$)'))
        return case((looks, cast(text, JSONB)), else_=func.to_jsonb(text, type_=JSONB))

    def json_agg(self, val: Val, distinct: bool) -> ColumnElement[Any]:
        arg = self.to_json(val)
        agg = func.jsonb_agg(arg.distinct() if distinct else arg, type_=JSONB)
        return func.coalesce(agg, cast(literal("[]", Text), JSONB), type_=JSONB)

    def as_array(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        from sqlalchemy import select

        each = func.jsonb_each(j).table_valued("key", "value").alias("cg_bag")
        bag = select(func.coalesce(func.jsonb_agg(func.jsonb_build_object(each.c.key, each.c.value)),
                                   cast(literal("[]", Text), JSONB)))
        kind = func.jsonb_typeof(j)
        return case((or_(j.is_(None), kind == "null"), cast(literal("[null]", Text), JSONB)),
                    (kind == "array", j), (kind == "object", bag.select_from(each).scalar_subquery()),
                    else_=func.jsonb_build_array(j, type_=JSONB))

    def each(self, j: ColumnElement[Any], name: str) -> tuple[FromClause, ColumnElement[Any]]:
        table = func.jsonb_array_elements(j).table_valued("value").lateral(name)
        return table, table.c.value

    def expand(self, j: ColumnElement[Any], name: str
               ) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
        table = func.jsonb_array_elements(self.as_array(j)).table_valued(
            "value", with_ordinality="ordinality").lateral(name)
        return table, table.c.value, cast(table.c.ordinality - 1, BigInteger)

    def map_array(self, j: ColumnElement[Any],
                  fn: Callable[[ColumnElement[Any]], ColumnElement[Any]]) -> ColumnElement[Any]:
        from sqlalchemy import select
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        table = func.jsonb_array_elements(j).table_valued("value", with_ordinality="ordinality").alias("cg_item")
        agg = func.jsonb_agg(aggregate_order_by(fn(table.c.value), table.c.ordinality), type_=JSONB)
        empty = cast(literal("[]", Text), JSONB)
        return select(func.coalesce(agg, empty, type_=JSONB)).select_from(table).scalar_subquery()

    def json_merge(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return a.op("||", return_type=JSONB)(b)

    def iso(self, ts: ColumnElement[Any], zulu: bool = True) -> ColumnElement[Any]:
        utc = func.timezone(self.text("UTC"), ts)
        micro = func.to_char(utc, self.text("US"))
        fraction = case((micro == "000000", self.text("")), else_=self.concat(self.text("."), micro))
        return self.concat(func.to_char(utc, self.text('YYYY-MM-DD"T"HH24:MI:SS')), fraction,
                           self.text("Z" if zulu else "+00:00"))

    def contains(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.strpos(a, b) > 0

    def starts_with(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.starts_with(a, b, type_=Boolean)

    def ends_with(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.right(a, func.length(b)) == b

    def regex_match(self, text: ColumnElement[Any], pattern: str) -> ColumnElement[Any]:
        return text.op("~", return_type=Boolean)(self.text(pattern))

    def regex_extract(self, text: ColumnElement[Any], pattern: str, group: int) -> ColumnElement[Any]:
        flags, body = split_flags(pattern)
        groups = func.regexp_match(text, self.text(f"{flags}({body})"), type_=ARRAY(Text))
        return groups[group + 1]

    def before(self, text: ColumnElement[Any], sep: str) -> ColumnElement[Any]:
        return func.split_part(text, self.text(sep), 1)

    def to_number(self, text: ColumnElement[Any], ktype: str) -> ColumnElement[Any]:
        number = text.op("~", return_type=Boolean)(self.text(_NUMBER_TEXT))
        if ktype == LONG:
            return case((number, cast(func.trunc(cast(text, Float(precision=53))), BigInteger)))
        return case((number, cast(text, Float(precision=53))))

    def to_text(self, val: Val) -> ColumnElement[Any]:
        if val.type == REAL:
            # float8 as text is the shortest round-tripping form on PostgreSQL 12+, as in Kusto.
            return cast(val.sql, Text)
        return super().to_text(val)

    def epoch(self, ts: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(func.extract("epoch", ts), Float(precision=53))

    def from_epoch(self, seconds: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.to_timestamp(seconds)

    def parse_timestamp(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        from sqlalchemy import DateTime

        iso_like = text.op("~", return_type=Boolean)(
            self.text(r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
                      r"\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?\s*$"))
        return case((iso_like, cast(text, DateTime(timezone=True))))

    def sort_key(self, sql: ColumnElement[Any], form: str) -> ColumnElement[Any]:
        return sql.collate("C") if form == STRING else sql

    def json_text_out(self, j: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(j, Text)


def dialect_for(name: str) -> Dialect:
    """The dialect of a SQLAlchemy backend name."""
    if name == "sqlite":
        return SqliteDialect()
    if name == "postgresql":
        return PostgresDialect()
    from .errors import QueryError

    raise QueryError(f"the query language does not support the {name} database")
