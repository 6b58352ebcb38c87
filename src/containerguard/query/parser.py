"""Text to syntax tree: lark parses, a transformer builds :mod:`.ast` nodes; every error names its position."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta

from . import ast
from .errors import QueryError
from .grammar import GRAMMAR

MAX_QUERY_LENGTH = 20_000
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_UNITS = {"d": 86400.0, "day": 86400.0, "days": 86400.0, "h": 3600.0, "hr": 3600.0, "hrs": 3600.0,
          "hour": 3600.0, "hours": 3600.0, "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
          "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "microsecond": 1e-6,
          "microseconds": 1e-6, "tick": 1e-7, "ticks": 1e-7}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}
_FRIENDLY = {"NAME": "a name", "INT": "a whole number", "STRING": "a string", "CMP_OP": "a comparison",
             "STR_OP": "a string operator", "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "VBAR": "'|'",
             "EQUAL": "'='", "$END": "end of query", "DOT": "'.'", "LSQB": "'['", "RSQB": "']'"}


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def parse(text: str) -> ast.Pipeline:
    """The syntax tree of ``text``; :class:`QueryError` with line and column when it is not a query."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"query longer than {MAX_QUERY_LENGTH} characters")
    if not text.strip():
        raise QueryError("empty query: start with a table name (securityresources or resources)", 1, 1)
    refused = _sql_comment(text)
    if refused is not None:
        raise refused
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    try:
        result = _Builder(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise
    pipeline: ast.Pipeline = result.children[0] if hasattr(result, "children") else result
    return pipeline


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def _sql_comment(text: str) -> QueryError | None:
    """``--`` or ``/*`` outside string literals and ``//`` comments: SQL comments are not KQL (a ``--``
    would otherwise read as two minus signs)."""
    i = 0
    while i < len(text):
        ch = text[i]
        verbatim = ch == "@" and text[i + 1:i + 2] in ("'", '"')
        if ch in "'\"" or verbatim:
            quote = text[i + 1] if verbatim else ch
            j = i + (2 if verbatim else 1)
            while j < len(text) and text[j] != "\n":
                if not verbatim and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == quote:
                    if verbatim and text[j + 1:j + 2] == quote:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith(("--", "/*"), i):
            token = text[i:i + 2]
            line, column = _position(text, i)
            hint = "comments start with //" if token == "--" else "KQL comments start with //"
            return QueryError(f"syntax error: unexpected {token!r} ({hint})", line, column, token)
        else:
            i += 1
    return None


def _expected(names: set[str] | frozenset[str] | None) -> str:
    if not names or len(names) > 8:
        return ""
    shown = sorted(_FRIENDLY.get(n, f"'{n.lower().replace('_', '-')}'") for n in names)
    return f"; expected {', '.join(shown)}"


def _syntax_error(exc: UnexpectedInput, text: str) -> QueryError:
    line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream if exc.pos_in_stream is not None else -1
        char = text[at] if 0 <= at < len(text) else ""
        word = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[at:]) if at >= 0 else None
        if word is not None:
            return QueryError(f"syntax error: unexpected {word.group(0)!r}", line, column, word.group(0))
        hint = ""
        if char in "'\"":
            hint = " (a string that is never closed?)"
        elif char == ";":
            hint = " (one query, no ';')"
        return QueryError(f"syntax error: unexpected character {char!r}{hint}", line, column, char)
    if isinstance(exc, UnexpectedToken):
        token: Token = exc.token
        if token.type == "$END":
            return QueryError(f"syntax error: the query ends too early{_expected(exc.expected)}",
                              *_end_position(text), "")
        return QueryError(f"syntax error: unexpected {str(token)!r}{_expected(exc.expected)}",
                          token.line or line, token.column or column, str(token))
    if isinstance(exc, UnexpectedEOF):
        return QueryError("syntax error: the query ends too early", *_end_position(text), "")
    return QueryError(f"syntax error: {exc}", line, column)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def _pos(meta: Meta, text: str) -> ast.Pos:
    if getattr(meta, "empty", True):
        return ast.Pos()
    snippet = text[meta.start_pos:meta.end_pos].split("\n", 1)[0][:40]
    return ast.Pos(meta.line, meta.column, snippet)


def _tok_pos(token: Token) -> ast.Pos:
    return ast.Pos(token.line or 0, token.column or 0, str(token))


def _error(message: str, pos: ast.Pos) -> QueryError:
    return QueryError(message, pos.line, pos.column, pos.token)


def unescape(body: str) -> str:
    """A Kusto string literal's body with its backslash escapes resolved."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _string(token: Token) -> str:
    text = str(token)
    if text.startswith("@"):
        quote = text[1]
        return text[2:-1].replace(quote * 2, quote)
    return unescape(text[1:-1])


def parse_datetime(body: str) -> datetime | None:
    """``2024-01-02``, ``2024-01-02T03:04:05Z``, ``2024-01-02 03:04`` … as UTC; None when unreadable."""
    text = body.strip().strip("'\"").strip()
    if not text:
        return None
    text = re.sub(r"[zZ]$", "+00:00", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timespan(token: str) -> timedelta:
    """``1d``, ``2h``, ``30m``, ``10s``, ``100ms`` … as a timedelta."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", token)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(token)
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Parse tree to :mod:`.ast`."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    # ------------------------------------------------------------ pipeline and operators

    def pipeline(self, meta: Meta, children: list[Any]) -> ast.Pipeline:
        table: Token = children[0]
        return ast.Pipeline(str(table), tuple(children[1:]), _tok_pos(table))

    def where(self, meta: Meta, children: list[Any]) -> ast.Where:
        return ast.Where(_pos(meta, self.text), children[1])

    def project(self, meta: Meta, children: list[Any]) -> ast.Project:
        return ast.Project(_pos(meta, self.text), tuple(children[1:]))

    def project_away(self, meta: Meta, children: list[Any]) -> ast.ProjectAway:
        return ast.ProjectAway(_pos(meta, self.text), tuple(str(t) for t in children[1:]))

    def extend(self, meta: Meta, children: list[Any]) -> ast.Extend:
        return ast.Extend(_pos(meta, self.text), tuple(children[1:]))

    def aggregates(self, meta: Meta, children: list[Any]) -> tuple[str, tuple[ast.Assign, ...]]:
        return "aggregates", tuple(children)

    def by_clause(self, meta: Meta, children: list[Any]) -> tuple[str, tuple[ast.Assign, ...]]:
        return "by", tuple(children[1:])

    def summarize(self, meta: Meta, children: list[Any]) -> ast.Summarize:
        parts = dict(children[1:])
        pos = _pos(meta, self.text)
        if not parts:
            raise _error("summarize needs aggregates (count(), dcount(x) …) and/or 'by' keys", pos)
        return ast.Summarize(pos, parts.get("aggregates", ()), parts.get("by", ()))

    def direction(self, meta: Meta, children: list[Any]) -> tuple[str, bool]:
        return "descending", str(children[0]) == "desc"

    def nulls(self, meta: Meta, children: list[Any]) -> tuple[str, bool]:
        return "nulls_first", str(children[1]) == "first"

    def sort_key(self, meta: Meta, children: list[Any]) -> ast.SortKey:
        options: dict[str, bool] = dict(children[1:])
        return ast.SortKey(children[0], options.get("descending", True), options.get("nulls_first"))

    def sort(self, meta: Meta, children: list[Any]) -> ast.Sort:
        return ast.Sort(_pos(meta, self.text), tuple(children[2:]))

    def top(self, meta: Meta, children: list[Any]) -> ast.Top:
        return ast.Top(_pos(meta, self.text), self._count(children[1]), children[3])

    def take(self, meta: Meta, children: list[Any]) -> ast.Take:
        return ast.Take(_pos(meta, self.text), self._count(children[1]))

    def count(self, meta: Meta, children: list[Any]) -> ast.Count:
        return ast.Count(_pos(meta, self.text))

    def distinct(self, meta: Meta, children: list[Any]) -> ast.Distinct:
        rest = children[1:]
        if len(rest) == 1 and rest[0].type == "STAR":
            return ast.Distinct(_pos(meta, self.text))
        return ast.Distinct(_pos(meta, self.text), tuple(str(t) for t in rest), tuple(_tok_pos(t) for t in rest))

    def join_kind(self, meta: Meta, children: list[Any]) -> tuple[str, str]:
        kind: Token = children[1]
        known = ("inner", "innerunique", "leftouter", "leftsemi", "leftanti", "fullouter", "rightouter")
        if str(kind) not in known:
            raise _error(f"unknown join kind {str(kind)!r} (known: {', '.join(known)})", _tok_pos(kind))
        return "kind", str(kind)

    def join_key(self, meta: Meta, children: list[Any]) -> ast.JoinKey:
        pos = _pos(meta, self.text)
        if len(children) == 1:
            return ast.JoinKey(str(children[0]), str(children[0]), pos)
        op: Token = children[2]
        if str(op) != "==":
            raise _error(f"join keys compare with '==', not {str(op)!r}", _tok_pos(op))
        return ast.JoinKey(str(children[1]), str(children[4]), pos)

    def join(self, meta: Meta, children: list[Any]) -> ast.Join:
        kind = "innerunique"
        rest = children[1:]
        if rest and isinstance(rest[0], tuple):
            kind = rest[0][1]
            rest = rest[1:]
        right: ast.Pipeline = rest[0]
        keys = tuple(k for k in rest[1:] if isinstance(k, ast.JoinKey))
        return ast.Join(_pos(meta, self.text), kind, right, keys)

    def item_index(self, meta: Meta, children: list[Any]) -> tuple[str, str]:
        return "index", str(children[1])

    def to_type(self, meta: Meta, children: list[Any]) -> tuple[str, str]:
        name: Token = children[2]
        known = ("string", "long", "int", "real", "double", "bool", "datetime", "dynamic")
        if str(name) not in known:
            raise _error(f"unknown type {str(name)!r} (known: {', '.join(known)})", _tok_pos(name))
        return "type", {"int": "long", "double": "real"}.get(str(name), str(name))

    def expand_limit(self, meta: Meta, children: list[Any]) -> tuple[str, int]:
        return "limit", self._count(children[1])

    def mv_expand(self, meta: Meta, children: list[Any]) -> ast.MvExpand:
        item = next(c for c in children[1:] if isinstance(c, ast.Assign))
        options: dict[str, Any] = dict(c for c in children[1:] if isinstance(c, tuple))
        return ast.MvExpand(_pos(meta, self.text), item, options.get("index"), options.get("type"),
                            options.get("limit"))

    def named(self, meta: Meta, children: list[Any]) -> ast.Assign:
        return ast.Assign(str(children[0]), children[1], _pos(meta, self.text))

    def unnamed(self, meta: Meta, children: list[Any]) -> ast.Assign:
        return ast.Assign(None, children[0], _pos(meta, self.text))

    def _count(self, token: Token) -> int:
        value = int(str(token))
        if value > _LONG_MAX:
            raise _error("number too large", _tok_pos(token))
        return value

    # ------------------------------------------------------------ expressions

    def binary(self, meta: Meta, children: list[Any]) -> ast.Binary:
        left, op, right = children
        pos = _pos(meta, self.text)
        name = " ".join(str(op).split())  # "matches  regex" -> "matches regex"
        if name == "<>":
            name = "!="
        return ast.Binary(pos, name, left, right)

    def neg(self, meta: Meta, children: list[Any]) -> ast.Expr:
        _, operand = children
        pos = _pos(meta, self.text)
        if isinstance(operand, ast.Literal) and operand.type in ("long", "real", "timespan"):
            return ast.Literal(pos, -operand.value, operand.type)
        return ast.Unary(pos, "-", operand)

    def in_list(self, meta: Meta, children: list[Any]) -> ast.InList:
        return ast.InList(_pos(meta, self.text), str(children[1]), children[0], tuple(children[2:]))

    def between(self, meta: Meta, children: list[Any]) -> ast.Between:
        left, op, low, high = children
        return ast.Between(_pos(meta, self.text), left, low, high, str(op).startswith("!"))

    def member(self, meta: Meta, children: list[Any]) -> ast.Member:
        return ast.Member(_pos(meta, self.text), children[0], str(children[1]))

    def index(self, meta: Meta, children: list[Any]) -> ast.Expr:
        obj, key = children
        pos = _pos(meta, self.text)
        if isinstance(key, ast.Literal) and key.type in ("string", "long"):
            return ast.Member(pos, obj, key.value)
        return ast.Index(pos, obj, key)

    def column(self, meta: Meta, children: list[Any]) -> ast.Column:
        return ast.Column(_tok_pos(children[0]), str(children[0]))

    def call_args(self, meta: Meta, children: list[Any]) -> tuple[ast.Expr, ...]:
        return tuple(children)

    def call(self, meta: Meta, children: list[Any]) -> ast.Call:
        args = children[1] if len(children) > 1 else ()
        return ast.Call(_pos(meta, self.text), str(children[0]), args)

    def literal(self, meta: Meta, children: list[Any]) -> ast.Literal:
        token: Token = children[0]
        pos = _tok_pos(token)
        kind = token.type
        text = str(token)
        if kind in ("STRING", "VSTRING"):
            return ast.Literal(pos, _string(token), "string")
        if kind == "INT":
            value = int(text)
            if value > _LONG_MAX:
                raise _error("number too large for a long (use a real: 1.0e20)", pos)
            return ast.Literal(pos, value, "long")
        if kind == "REAL":
            return ast.Literal(pos, float(text), "real")
        if kind == "TIMESPAN":
            return ast.Literal(pos, timespan(text), "timespan")
        if kind == "DATETIME":
            value_dt = parse_datetime(text[len("datetime("):-1])
            if value_dt is None:
                raise _error(f"not a datetime: {text} (use datetime(2024-01-31) or datetime(2024-01-31T12:00:00Z))",
                             pos)
            return ast.Literal(pos, value_dt, "datetime")
        return ast.Literal(pos, text == "true", "bool")

    def dynamic(self, meta: Meta, children: list[Any]) -> ast.Literal:
        return ast.Literal(_pos(meta, self.text), children[1], "dynamic")

    def json_array(self, meta: Meta, children: list[Any]) -> list[Any]:
        return list(children)

    def json_pair(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return _string(children[0]), children[1]

    def json_object(self, meta: Meta, children: list[Any]) -> dict[str, Any]:
        return dict(children)

    def json_scalar(self, meta: Meta, children: list[Any]) -> Any:
        sign = -1 if len(children) == 2 else 1
        token: Token = children[-1]
        kind = token.type
        if kind in ("STRING", "VSTRING"):
            return _string(token)
        if kind == "INT":
            return sign * int(str(token))
        if kind == "REAL":
            return sign * float(str(token))
        if kind == "NULL":
            return None
        return str(token) == "true"

    def start(self, meta: Meta, children: list[Any]) -> ast.Pipeline:
        pipeline: ast.Pipeline = children[0]
        return pipeline
