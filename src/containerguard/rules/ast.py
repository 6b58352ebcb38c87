"""The condition AST: what the parser builds and the compiler rewrites (macros, lists, exceptions)."""

from __future__ import annotations

from dataclasses import dataclass

# Operators taking one scalar value, a value list, or nothing.
SCALAR_OPS = frozenset({
    "=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains", "startswith",
    "bstartswith", "endswith", "glob", "iglob", "regex",
})
LIST_OPS = frozenset({"in", "intersects", "pmatch"})
UNARY_OPS = frozenset({"exists"})
WORD_OPS = frozenset(op for op in SCALAR_OPS | LIST_OPS | UNARY_OPS if op.isalpha())
TRANSFORMERS = frozenset({"tolower", "toupper", "b64", "basename", "len"})


@dataclass(frozen=True, slots=True)
class Field:
    """A field reference such as ``proc.aname[2]``; ``arg`` is the text between brackets."""

    name: str
    arg: str | None = None
    pos: int = 0

    def text(self) -> str:
        """The field as written in a condition or output."""
        return self.name if self.arg is None else f"{self.name}[{self.arg}]"


@dataclass(frozen=True, slots=True)
class Transform:
    """A transformer applied to a field or another transformer: ``tolower(proc.name)``."""

    name: str
    operand: Field | Transform
    pos: int = 0


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A right-hand side naming another field: ``val(proc.pname)`` (maybe inside transformers)."""

    operand: Field | Transform
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant; ``quoted`` says it was written in quotes (so it can never name a list)."""

    text: str
    quoted: bool = False
    pos: int = 0


@dataclass(frozen=True, slots=True)
class ValueList:
    """A parenthesised value list ``(a, "b", list_name)``."""

    items: tuple[Literal, ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Compare:
    """``lhs op rhs``; ``rhs`` is None for ``exists``."""

    lhs: Field | Transform
    op: str
    rhs: Literal | ValueList | FieldValue | None
    pos: int = 0


@dataclass(frozen=True, slots=True)
class MacroRef:
    """A bare identifier in a check position: a macro to substitute."""

    name: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Not:
    """Logical negation."""

    operand: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more operands."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more operands."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Const:
    """A constant truth value (what an empty exception block or a folded macro becomes)."""

    value: bool


Node = Compare | MacroRef | Not | And | Or | Const


def base_field(operand: Field | Transform) -> Field:
    """The field under any transformers."""
    while isinstance(operand, Transform):
        operand = operand.operand
    return operand
