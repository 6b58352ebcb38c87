"""Condition parser: the grammar's shapes and its errors (with the column of the problem)."""

from __future__ import annotations

import pytest

from containerguard.rules.ast import And, Compare, Field, FieldValue, Literal, MacroRef, Not, Or, Transform, ValueList
from containerguard.rules.errors import ConditionSyntaxError
from containerguard.rules.parser import parse_condition, parse_value_item


@pytest.mark.parametrize(("text", "expected"), [
    ("ka.verb=create", Compare(Field("ka.verb"), "=", Literal("create"))),
    ("evt.dir=<", Compare(Field("evt.dir"), "=", Literal("<"))),
    ("fd.num>=0", Compare(Field("fd.num"), ">=", Literal("0"))),
    ('proc.name!="<NA>"', Compare(Field("proc.name"), "!=", Literal("<NA>", quoted=True))),
    ("fd.typechar='f'", Compare(Field("fd.typechar"), "=", Literal("f", quoted=True))),
    ("ka.uri.param[command] exists", Compare(Field("ka.uri.param", "command"), "exists", None)),
    ("proc.aname[2] in (a, \"b c\")",
     Compare(Field("proc.aname", "2"), "in", ValueList((Literal("a"), Literal("b c", quoted=True))))),
    ("proc.pname in (runc:[0:PARENT], runc)",
     Compare(Field("proc.pname"), "in", ValueList((Literal("runc:[0:PARENT]"), Literal("runc"))))),
    ("a.b in ()", Compare(Field("a.b"), "in", ValueList(()))),
    ("tolower(proc.name) = bash", Compare(Transform("tolower", Field("proc.name")), "=", Literal("bash"))),
    ("len(toupper(ka.verb)) > 3", Compare(Transform("len", Transform("toupper", Field("ka.verb"))), ">",
                                          Literal("3"))),
    ("proc.name = val(proc.pname)", Compare(Field("proc.name"), "=", FieldValue(Field("proc.pname")))),
    ("jevt.value[/requestObject/spec/tls] exists",
     Compare(Field("jevt.value", "/requestObject/spec/tls"), "exists", None)),
    ("kevt", MacroRef("kevt")),
    ("not kevt", Not(MacroRef("kevt"))),
    ("not not kevt", Not(Not(MacroRef("kevt")))),
    ("a or b and c", Or((MacroRef("a"), And((MacroRef("b"), MacroRef("c")))))),
    ("(a or b) and c", And((Or((MacroRef("a"), MacroRef("b"))), MacroRef("c")))),
    ("android and order", And((MacroRef("android"), MacroRef("order")))),
    ('a.b contains "x\\"y"', Compare(Field("a.b"), "contains", Literal('x"y', quoted=True))),
])
def test_parse_shapes(text: str, expected: object) -> None:
    got = parse_condition(text)
    assert _strip(got) == _strip(expected)


def _strip(node: object) -> object:
    """The AST without source positions, to compare shapes."""
    if isinstance(node, tuple):
        return tuple(_strip(n) for n in node)
    if hasattr(node, "__dataclass_fields__"):
        values = {k: _strip(getattr(node, k)) for k in node.__dataclass_fields__ if k != "pos"}
        return (type(node).__name__, tuple(sorted(values.items())))
    return node


@pytest.mark.parametrize(("text", "message", "col"), [
    ("", "empty condition", 1),
    ("ka.verb =", "expected a value", 10),
    ("(ka.verb = a", "missing ')'", 13),
    ("ka.verb in a", "needs a value list", 12),
    ("ka.verb = (a)", "takes one value", 11),
    ("ka.verb ~ a", "expected an operator", 9),
    ("ka.verb = a b", "unexpected text", 13),
    ('ka.verb = "abc', "unterminated", 11),
    ("a and", "expected a field", 6),
    ("proc.aname[2 = x", "missing ']'", 11),
])
def test_parse_errors(text: str, message: str, col: int) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert message in str(info.value)
    assert f"col {col}" in str(info.value)


@pytest.mark.parametrize(("item", "expected"), [
    ("bash", Literal("bash")),
    ('"(systemd)"', Literal("(systemd)", quoted=True)),
    ('"sh -c node -e \\"require(\'nan\')\\""', Literal("sh -c node -e \"require('nan')\"", quoted=True)),
    ("10.0.0.0/8", Literal("10.0.0.0/8")),
])
def test_list_items(item: str, expected: Literal) -> None:
    assert parse_value_item(item) == expected
