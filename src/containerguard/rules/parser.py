"""Falco condition syntax -> AST, by hand-written recursive descent.

Falco's lexing is context dependent (``evt.dir=<`` and ``runc:[0:PARENT]`` are bare values, ``[`` after a
field opens an argument), which a scanner-less descent parser follows exactly as libsinsp's own parser
does; it parses the whole stock Falco ruleset in milliseconds.

Grammar (precedence low -> high)::

    expr    := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | check
    check   := '(' expr ')' | lhs op value | lhs listop '(' values ')' | lhs 'exists' | MACRO
    lhs     := FIELD ('[' ARG ']')? | TRANSFORMER '(' lhs ')'
    value   := QUOTED | BARE | 'val' '(' lhs ')' | TRANSFORMER '(' value-field ')'
"""

from __future__ import annotations

import re

from .ast import (
    LIST_OPS,
    SCALAR_OPS,
    TRANSFORMERS,
    UNARY_OPS,
    WORD_OPS,
    And,
    Compare,
    Field,
    FieldValue,
    Literal,
    MacroRef,
    Node,
    Not,
    Or,
    Transform,
    ValueList,
)
from .errors import ConditionSyntaxError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# libsinsp's bare string: anything up to blanks, parentheses, comma, '=' or a quote.
_BARE = re.compile(r"[^ \b\t\n\r\f\v(),=\"']+")
_SYMBOL_OPS = ("==", "!=", "<=", ">=", "=", "<", ">")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", '"': '"', "'": "'"}
_SPACE = " \t\r\n\f\v"


def parse_condition(text: str) -> Node:
    """Parse one condition; raises ConditionSyntaxError with the offset of the problem."""
    return _Parser(text).parse()


def parse_value_item(text: str) -> Literal:
    """One list item as written in a ``list:`` (``'"quoted item"'`` or a bare word) -> a Literal."""
    stripped = text.strip()
    if stripped[:1] in ('"', "'"):
        parser = _Parser(stripped)
        try:
            value = parser.quoted()
        except ConditionSyntaxError:
            return Literal(stripped)
        if parser.i == len(stripped):
            return Literal(value, quoted=True)
    return Literal(stripped)


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, message: str, pos: int | None = None) -> ConditionSyntaxError:
        at = self.i if pos is None else pos
        near = self.s[at:at + 20]
        where = f"near '{near}'" if near else "at end of condition"
        return ConditionSyntaxError(f"{message} at col {at + 1} ({where})", at)

    def ws(self) -> None:
        s, i, n = self.s, self.i, len(self.s)
        while i < n and s[i] in _SPACE:
            i += 1
        self.i = i

    def keyword(self, word: str) -> bool:
        """Consume ``word`` if it is the next token (not a prefix of a longer identifier)."""
        self.ws()
        end = self.i + len(word)
        if not self.s.startswith(word, self.i):
            return False
        if end == len(self.s) or not (self.s[end].isalnum() or self.s[end] in "_."):
            self.i = end
            return True
        return False

    def parse(self) -> Node:
        self.ws()
        if self.i == len(self.s):
            raise self.fail("empty condition")
        node = self.or_expr()
        self.ws()
        if self.i < len(self.s):
            raise self.fail("unexpected text")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.keyword("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.keyword("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        start = self.i
        if self.keyword("not"):
            return Not(self.not_expr(), start)
        return self.check()

    def check(self) -> Node:
        self.ws()
        start = self.i
        if self.s.startswith("(", start):
            self.i += 1
            node = self.or_expr()
            self.ws()
            if not self.s.startswith(")", self.i):
                raise self.fail("missing ')'")
            self.i += 1
            return node
        m = _NAME.match(self.s, start)
        if m is None:
            raise self.fail("expected a field, a macro or '('")
        name = m.group()
        self.i = m.end()
        if name in ("and", "or"):
            raise self.fail(f"unexpected '{name}'", start)
        if "." not in name and self.s.startswith("(", self.i) and name in TRANSFORMERS:
            lhs: Field | Transform = self.transform(name, start)
        elif "." not in name and not self._operator_follows():
            return MacroRef(name, start)
        else:
            lhs = self.field_rest(name, start)
        return self.condition(lhs, start)

    def _operator_follows(self) -> bool:
        save = self.i
        self.ws()
        found = self.s.startswith(_SYMBOL_OPS, self.i) or self.s.startswith("[", save)
        if not found:
            m = _WORD.match(self.s, self.i)
            found = m is not None and m.group() in WORD_OPS
        self.i = save
        return found

    def field_rest(self, name: str, start: int) -> Field:
        """A field name was read; read its optional ``[arg]`` (must follow without blanks)."""
        if not self.s.startswith("[", self.i):
            return Field(name, None, start)
        close = self.s.find("]", self.i + 1)
        if close < 0:
            raise self.fail("missing ']' after field argument")
        arg = self.s[self.i + 1:close].strip()
        if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
            arg = arg[1:-1]
        self.i = close + 1
        return Field(name, arg, start)

    def transform(self, name: str, start: int) -> Transform:
        self.i += 1  # '('
        self.ws()
        inner_start = self.i
        m = _NAME.match(self.s, self.i)
        if m is None:
            raise self.fail(f"expected a field inside {name}()")
        self.i = m.end()
        inner_name = m.group()
        if "." not in inner_name and inner_name in TRANSFORMERS and self.s.startswith("(", self.i):
            operand: Field | Transform = self.transform(inner_name, inner_start)
        elif inner_name == "val" and self.s.startswith("(", self.i):
            # tolower(val(f)) on the right-hand side: val() only marks the operand as a field
            operand = self.transform("val", inner_start).operand
        elif "." not in inner_name:
            raise self.fail(f"expected a field inside {name}()", inner_start)
        else:
            operand = self.field_rest(inner_name, inner_start)
        self.ws()
        if not self.s.startswith(")", self.i):
            raise self.fail(f"missing ')' closing {name}(")
        self.i += 1
        return Transform(name, operand, start)

    def operator(self) -> str:
        self.ws()
        for op in _SYMBOL_OPS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                return op
        m = _WORD.match(self.s, self.i)
        if m is not None and m.group() in WORD_OPS:
            self.i = m.end()
            return m.group()
        raise self.fail("expected an operator")

    def condition(self, lhs: Field | Transform, start: int) -> Compare:
        op = self.operator()
        if op in UNARY_OPS:
            return Compare(lhs, op, None, start)
        self.ws()
        if op in LIST_OPS:
            if not self.s.startswith("(", self.i):
                raise self.fail(f"'{op}' needs a value list '(a, b, ...)'")
            return Compare(lhs, op, self.value_list(), start)
        assert op in SCALAR_OPS
        if self.s.startswith("(", self.i):
            raise self.fail(f"'{op}' takes one value, not a list")
        return Compare(lhs, op, self.value(), start)

    def value_list(self) -> ValueList:
        start = self.i
        self.i += 1
        items: list[Literal] = []
        self.ws()
        if self.s.startswith(")", self.i):
            self.i += 1
            return ValueList((), start)
        while True:
            self.ws()
            items.append(self.literal())
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith(")", self.i):
                self.i += 1
                return ValueList(tuple(items), start)
            raise self.fail("expected ',' or ')' in value list")

    def value(self) -> Literal | FieldValue:
        start = self.i
        m = _WORD.match(self.s, self.i)
        if m is not None and self.s.startswith("(", m.end()):
            word = m.group()
            if word == "val":
                self.i = m.end() + 1
                self.ws()
                inner = _NAME.match(self.s, self.i)
                if inner is None:
                    raise self.fail("expected a field inside val()")
                self.i = inner.end()
                if inner.group() in TRANSFORMERS and self.s.startswith("(", self.i):
                    operand: Field | Transform = self.transform(inner.group(), inner.start())
                else:
                    operand = self.field_rest(inner.group(), inner.start())
                self.ws()
                if not self.s.startswith(")", self.i):
                    raise self.fail("missing ')' closing val(")
                self.i += 1
                return FieldValue(operand, start)
            if word in TRANSFORMERS:
                self.i = m.end()
                return FieldValue(self.transform(word, start), start)
        return self.literal()

    def literal(self) -> Literal:
        start = self.i
        if self.s.startswith(('"', "'"), self.i):
            return Literal(self.quoted(), True, start)
        m = _BARE.match(self.s, self.i)
        if m is None:
            raise self.fail("expected a value")
        self.i = m.end()
        return Literal(m.group(), False, start)

    def quoted(self) -> str:
        quote = self.s[self.i]
        start = self.i
        self.i += 1
        out: list[str] = []
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c == "\\" and self.i + 1 < n:
                nxt = s[self.i + 1]
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
                self.i += 2
                continue
            if c == quote:
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise self.fail("unterminated quoted string", start)
