"""RuleSet -> compiled rules: macros substituted and lists spliced on the AST, exceptions turned into
``and not (...)``, fields resolved against the rule's source, then closures (no ``eval``).

A rule whose condition needs a field its source does not fill (a Falco syscall field such as ``fd.name``
for the process source, or a name no one defines) is kept *inactive* with a warning naming the field.
Each rule also gets, per index field of its source, the set of values that field must take for the rule
to match (None: any) — the engine's generalisation of Falco's per-event-type buckets.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import mitre
from .ast import (
    LIST_OPS,
    And,
    Compare,
    Const,
    Field,
    FieldValue,
    Literal,
    MacroRef,
    Node,
    Not,
    Or,
    Transform,
    ValueList,
    base_field,
)
from .diagnostics import Diagnostic, Loc
from .errors import ConditionSyntaxError, RuleError
from .fields import Arg, FieldSource, Getter, Value, source_for_rule
from .loader import ExceptionDef, RuleDef, RuleSet, Segment
from .output import OutputTemplate, compile_output
from .parser import parse_condition, parse_value_item

Pred = Callable[[Any], bool]
_INT_TYPES = frozenset({"uint64", "int64", "uint32", "int32", "uint16", "int16", "uint8", "int8", "reltime",
                        "abstime", "fd", "pid", "errno"})
_FIELD_TEXT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)(?:\[(.*)\])?$")


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate."""

    name: str
    desc: str
    priority: str
    source: str  # the rule's `source:` (Falco's name: syscall, k8s_audit, docker)
    event_source: str  # the containerguard source whose events it reads
    tags: tuple[str, ...]
    tactic: str | None
    techniques: tuple[str, ...]
    condition: Pred
    output: OutputTemplate
    index: tuple[frozenset[str] | None, ...]
    order: int
    enabled: bool
    loc: Loc


@dataclass(frozen=True, slots=True)
class InactiveRule:
    """A rule that loaded but cannot run here, and why."""

    name: str
    source: str
    reason: str
    loc: Loc


@dataclass(slots=True)
class CompiledRules:
    """The outcome of compiling a RuleSet."""

    rules: list[CompiledRule] = field(default_factory=list)
    inactive: list[InactiveRule] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """Only the errors."""
        return [d for d in self.diagnostics if d.is_error]


class _Unavailable(Exception):
    """Raised inside compilation when a field cannot be filled by the rule's source."""

    def __init__(self, names: list[str], unknown: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names
        self.unknown = unknown


def compile_rules(ruleset: RuleSet) -> CompiledRules:
    """Compile every rule of ``ruleset`` (diagnostics from loading are carried over first)."""
    return _Compiler(ruleset).run()


def _segments_text(segments: list[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments)


def _segment_loc(segments: list[Segment], pos: int) -> Loc:
    """The segment holding offset ``pos`` of the joined text, and the line within a block scalar."""
    offset = 0
    for seg in segments:
        text = seg.text.strip()
        if pos <= offset + len(text) or seg is segments[-1]:
            inner = max(0, min(pos - offset, len(text)))
            return Loc(seg.loc.file, seg.loc.line + text[:inner].count("\n"))
        offset += len(text) + 1
    return segments[0].loc


class _Compiler:
    def __init__(self, rs: RuleSet) -> None:
        self.rs = rs
        self.out = CompiledRules(diagnostics=list(rs.diagnostics))
        self.macro_ast: dict[str, Node | None] = {}
        self.list_cache: dict[str, tuple[Literal, ...]] = {}

    def error(self, loc: Loc, message: str) -> None:
        self.out.diagnostics.append(Diagnostic("error", loc, message))

    def warn(self, loc: Loc, message: str) -> None:
        self.out.diagnostics.append(Diagnostic("warning", loc, message))

    def run(self) -> CompiledRules:
        for name, macro in self.rs.macros.items():
            try:
                self.macro_ast[name] = parse_condition(_segments_text(macro.segments))
            except ConditionSyntaxError as exc:
                self.macro_ast[name] = None
                self.error(_segment_loc(macro.segments, exc.pos), f"macro '{name}': {exc}")
        for order, rule in enumerate(self.rs.rules.values()):
            self._rule(rule, order)
        return self.out

    # -- one rule ----------------------------------------------------------------------------------
    def _rule(self, rule: RuleDef, order: int) -> None:
        what = f"rule '{rule.name}'"
        source = source_for_rule(rule.source)
        if source is None:
            reason = f"source '{rule.source}' is not one containerguard reads"
            self.out.inactive.append(InactiveRule(rule.name, rule.source, reason, rule.loc))
            self.warn(rule.loc, f"{what} loaded inactive: {reason}")
            return
        try:
            tree = parse_condition(_segments_text(rule.segments))
        except ConditionSyntaxError as exc:
            self.error(_segment_loc(rule.segments, exc.pos), f"{what}: condition: {exc}")
            return
        try:
            tree = self._expand(tree, [])
            tree = self._with_exceptions(tree, rule.exceptions, what)
            self._check_fields(tree, source)
            folded = _fold(tree, source)
            if folded is not tree:
                _Closures(source).node(tree)  # what folding drops must still compile: its errors are reported
            tree = folded
            predicate = _Closures(source).node(tree)
        except _Unavailable as exc:
            if exc.unknown:
                reason = f"unknown field {', '.join(exc.unknown)}"
            else:
                reason = f"needs {', '.join(exc.names)}, which no containerguard '{source.name}' event fills"
            self.out.inactive.append(InactiveRule(rule.name, rule.source, reason, rule.loc))
            self.warn(rule.loc, f"{what} loaded inactive: {reason}")
            return
        except RuleError as exc:
            self.error(rule.loc, f"{what}: {exc}")
            return
        template = compile_output(rule.output, source, lambda n, a: _bind_output(source, n, a))
        if template.unknown:
            self.warn(rule.loc, f"{what}: output uses unknown field {', '.join(template.unknown)} (prints <NA>)")
        tags = tuple(rule.tags)
        self.out.rules.append(CompiledRule(
            name=rule.name, desc=rule.desc, priority=rule.priority, source=rule.source, event_source=source.name,
            tags=tags, tactic=mitre.tactic(tags), techniques=mitre.techniques(tags), condition=predicate,
            output=template, index=tuple(_possible(tree, f) for f in source.index_fields), order=order,
            enabled=rule.enabled, loc=rule.loc))

    # -- macros and lists --------------------------------------------------------------------------
    def _expand(self, node: Node, stack: list[str]) -> Node:
        if isinstance(node, MacroRef):
            if node.name in stack:
                raise RuleError(f"macro '{node.name}' refers to itself ({' -> '.join([*stack, node.name])})")
            if node.name not in self.macro_ast:
                raise RuleError(f"undefined macro '{node.name}'")
            body = self.macro_ast[node.name]
            if body is None:
                raise RuleError(f"uses macro '{node.name}', which does not parse")
            return self._expand(body, [*stack, node.name])
        if isinstance(node, And | Or):
            items: list[Node] = []
            for operand in node.operands:
                sub = self._expand(operand, stack)
                items.extend(sub.operands if type(sub) is type(node) else (sub,))
            return type(node)(tuple(items))
        if isinstance(node, Not):
            return Not(self._expand(node.operand, stack), node.pos)
        if isinstance(node, Compare) and isinstance(node.rhs, ValueList):
            return Compare(node.lhs, node.op, ValueList(self._splice(node.rhs.items, []), node.rhs.pos), node.pos)
        return node

    def _splice(self, items: tuple[Literal, ...], stack: list[str]) -> tuple[Literal, ...]:
        out: list[Literal] = []
        for item in items:
            if not item.quoted and item.text in self.rs.lists:
                out.extend(self._list_items(item.text, stack))
            else:
                out.append(item)
        return tuple(out)

    def _list_items(self, name: str, stack: list[str]) -> tuple[Literal, ...]:
        cached = self.list_cache.get(name)
        if cached is not None:
            return cached
        if name in stack:
            raise RuleError(f"list '{name}' refers to itself ({' -> '.join([*stack, name])})")
        items = self._splice(tuple(parse_value_item(i) for i in self.rs.lists[name].items), [*stack, name])
        self.list_cache[name] = items
        return items

    # -- exceptions --------------------------------------------------------------------------------
    def _with_exceptions(self, tree: Node, exceptions: list[ExceptionDef], what: str) -> Node:
        clauses: list[Node] = []
        for exc in exceptions:
            if exc.fields is None:
                raise RuleError(f"exception '{exc.name}' has no 'fields'")
            for value in exc.values:
                clauses.append(self._exception_clause(exc, value))
        if not clauses:
            return tree
        blocker = clauses[0] if len(clauses) == 1 else Or(tuple(clauses))
        return And((tree, Not(blocker)))

    def _exception_clause(self, exc: ExceptionDef, value: Any) -> Node:
        if isinstance(exc.fields, str):
            comp = exc.comps if isinstance(exc.comps, str) else "in"
            values = value if isinstance(value, list) else [value]
            if comp in LIST_OPS:
                return self._exception_compare(exc, exc.fields, comp, values)
            parts = [self._exception_compare(exc, exc.fields, comp, v) for v in values]
            return parts[0] if len(parts) == 1 else Or(tuple(parts))
        assert isinstance(exc.fields, list) and isinstance(exc.comps, list)
        parts = [self._exception_compare(exc, f, c, v) for f, c, v in zip(exc.fields, exc.comps, value, strict=True)]
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _exception_compare(self, exc: ExceptionDef, field_text: Any, comp: Any, value: Any) -> Compare:
        m = _FIELD_TEXT.match(str(field_text).strip())
        if m is None:
            raise RuleError(f"exception '{exc.name}': '{field_text}' is not a field")
        lhs = Field(m.group(1), m.group(2))
        op = str(comp).strip()
        if op in LIST_OPS:
            items = value if isinstance(value, list) else [value]
            rhs: Literal | ValueList = ValueList(self._splice(tuple(parse_value_item(str(v)) for v in items), []))
        elif op == "exists":
            return Compare(lhs, op, None)
        elif isinstance(value, list):
            raise RuleError(f"exception '{exc.name}': operator '{op}' takes one value, not {value!r}")
        else:
            rhs = parse_value_item(str(value))
        from .ast import SCALAR_OPS  # local: only exceptions need the check

        if op not in SCALAR_OPS and op not in LIST_OPS:
            raise RuleError(f"exception '{exc.name}': unknown operator '{op}'")
        return Compare(lhs, op, rhs)

    # -- fields ------------------------------------------------------------------------------------
    def _check_fields(self, tree: Node, source: FieldSource) -> None:
        missing: list[str] = []
        unknown: list[str] = []
        for f in _fields(tree):
            if f.name not in source.fields and f.name not in missing:
                missing.append(f.name)
                if not source.knows_unfilled(f.name):
                    unknown.append(f.name)
        if missing:
            raise _Unavailable(missing, unknown)


def _bind_output(source: FieldSource, name: str, arg: str | None) -> Getter | None:
    fd = source.fields.get(name)
    if fd is None or (fd.arg is Arg.NONE and arg is not None) or (fd.index_arg and arg and not _is_int(arg)):
        return None
    if fd.arg is Arg.REQUIRED and arg is None:
        return None
    return fd.getter(arg)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _fields(node: Node) -> Iterator[Field]:
    if isinstance(node, And | Or):
        for operand in node.operands:
            yield from _fields(operand)
    elif isinstance(node, Not):
        yield from _fields(node.operand)
    elif isinstance(node, Compare):
        yield base_field(node.lhs)
        if isinstance(node.rhs, FieldValue):
            yield base_field(node.rhs.operand)


def _fold(node: Node, source: FieldSource) -> Node:
    """Fold the comparisons a field's definition decides (Falco's ``k8s_audit_always_true`` is
    ``jevt.rawtime exists``, ``k8s_audit_never_true`` is ``jevt.rawtime=0``) and the and/or/not around them,
    so a rule guarded by "never true" is never a candidate and "always true" costs nothing. Returns
    ``node`` itself when nothing folds."""
    if isinstance(node, Compare):
        decided = _decided(node, source)
        return node if decided is None else Const(decided)
    if isinstance(node, Not):
        inner = _fold(node.operand, source)
        if isinstance(inner, Const):
            return Const(not inner.value)
        return node if inner is node.operand else Not(inner, node.pos)
    if isinstance(node, And | Or):
        absorbing = isinstance(node, Or)  # true decides an or, false decides an and
        items: list[Node] = []
        changed = False
        for operand in node.operands:
            sub = _fold(operand, source)
            if isinstance(sub, Const):
                if sub.value is absorbing:
                    return Const(absorbing)
                changed = True  # the neutral constant drops out
                continue
            changed = changed or sub is not operand
            items.append(sub)
        if not changed:
            return node
        if not items:
            return Const(not absorbing)
        return items[0] if len(items) == 1 else type(node)(tuple(items))
    return node


def _decided(node: Compare, source: FieldSource) -> bool | None:
    """The constant outcome of a comparison, when the field's definition decides it."""
    lhs = node.lhs
    if not isinstance(lhs, Field) or lhs.arg is not None:
        return None
    fd = source.fields.get(lhs.name)
    if fd is None:
        return None
    if node.op == "exists":
        return True if fd.always else None
    if fd.nonzero and node.op in ("=", "==", "!=") and isinstance(node.rhs, Literal):
        text = node.rhs.text.strip()
        if _is_int(text) and int(text) == 0:
            # a missing value fails every comparison, `!=` included: "always" is needed for `!= 0` to hold
            if node.op != "!=":
                return False
            return True if fd.always else None
    return None


def _possible(node: Node, name: str) -> frozenset[str] | None:
    """Values ``name`` must take for ``node`` to hold (None: unconstrained); conservative."""
    if isinstance(node, Compare):
        lhs = node.lhs
        if isinstance(lhs, Field) and lhs.name == name and lhs.arg is None:
            if node.op in ("=", "==") and isinstance(node.rhs, Literal):
                return frozenset({node.rhs.text})
            if node.op in ("in", "intersects") and isinstance(node.rhs, ValueList):
                return frozenset(item.text for item in node.rhs.items)
        return None
    if isinstance(node, And):
        result: frozenset[str] | None = None
        for operand in node.operands:
            sub = _possible(operand, name)
            if sub is not None:
                result = sub if result is None else result & sub
        return result
    if isinstance(node, Or):
        union: set[str] = set()
        for operand in node.operands:
            sub = _possible(operand, name)
            if sub is None:
                return None
            union |= sub
        return frozenset(union)
    if isinstance(node, Const) and not node.value:
        return frozenset()
    return None


# -- closures --------------------------------------------------------------------------------------
def _b64(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


_STRING_TRANSFORMS: dict[str, Callable[[str], str | None]] = {
    "tolower": str.lower, "toupper": str.upper, "b64": _b64, "basename": os.path.basename,
}


@dataclass(frozen=True, slots=True)
class _Operand:
    get: Getter
    type: str  # "string" | "int" | "bool"
    is_list: bool
    any_match: bool


def _kind(field_type: str) -> str:
    if field_type in _INT_TYPES:
        return "int"
    if field_type == "bool":
        return "bool"
    return "string"


def _pmatch(prefixes: list[str]) -> Callable[[str], bool]:
    """Falco's pmatch: a path lies under one of the prefixes, component-wise; prefixes may hold globs."""
    plain = [tuple(p for p in pre.split("/") if p) for pre in prefixes if not any(c in pre for c in "*?[")]
    globs = [tuple(p for p in pre.split("/") if p) for pre in prefixes if any(c in pre for c in "*?[")]

    def match(path: str) -> bool:
        parts = tuple(p for p in path.split("/") if p)
        for pre in plain:
            if parts[:len(pre)] == pre:
                return True
        for pre in globs:
            if len(parts) >= len(pre) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pre, strict=False)):
                return True
        return False

    return match


class _Closures:
    """Turns an expanded AST into nested closures for one source."""

    def __init__(self, source: FieldSource) -> None:
        self.source = source

    def node(self, node: Node) -> Pred:
        if isinstance(node, And):
            return _all([self.node(n) for n in node.operands])
        if isinstance(node, Or):
            return _any([self.node(n) for n in node.operands])
        if isinstance(node, Not):
            if isinstance(node.operand, Compare):
                fused = self.negated(node.operand)
                if fused is not None:
                    return fused
            inner = self.node(node.operand)
            return lambda ev: not inner(ev)
        if isinstance(node, Const):
            value = node.value
            return lambda _ev: value
        if isinstance(node, Compare):
            return self.compare(node)
        raise RuleError(f"cannot compile {node!r}")  # MacroRef never survives expansion

    def operand(self, node: Field | Transform) -> _Operand:
        if isinstance(node, Field):
            fd = self.source.fields[node.name]
            if fd.arg is Arg.NONE and node.arg is not None:
                raise RuleError(f"field '{node.name}' takes no argument")
            if fd.arg is Arg.REQUIRED and not node.arg:
                raise RuleError(f"field '{node.name}' needs an argument: {node.name}[...]")
            if fd.index_arg and node.arg is not None and not _is_int(node.arg):
                raise RuleError(f"field '{node.name}' takes a numeric index, not '{node.arg}'")
            any_match = fd.any_match and node.arg is None
            return _Operand(fd.getter(node.arg), _kind(fd.type), fd.is_list or any_match, any_match)
        inner = self.operand(node.operand)
        get = inner.get
        if node.name == "len":
            def length(ev: Any) -> Value:
                v = get(ev)
                return None if v is None else len(v) if isinstance(v, str | tuple) else len(str(v))
            return _Operand(length, "int", False, False)
        fn = _STRING_TRANSFORMS[node.name]
        if inner.is_list:
            def each(ev: Any) -> Value:
                v = get(ev)
                if not isinstance(v, tuple):
                    return None
                return tuple(r for r in (fn(x) for x in v) if r is not None)
            return _Operand(each, "string", True, inner.any_match)

        def one(ev: Any) -> Value:
            v = get(ev)
            return None if v is None else fn(v if isinstance(v, str) else str(v))
        return _Operand(one, "string", False, False)

    def constant(self, lit: Literal, kind: str) -> Any:
        if kind == "int":
            try:
                return int(lit.text, 0) if lit.text.lower().startswith(("0x", "-0x")) else int(lit.text)
            except ValueError:
                raise RuleError(f"'{lit.text}' is not a number") from None
        if kind == "bool":
            low = lit.text.lower()
            if low not in ("true", "false"):
                raise RuleError(f"'{lit.text}' is not true or false")
            return low == "true"
        return lit.text

    def compare(self, node: Compare) -> Pred:
        lhs = self.operand(node.lhs)
        get, op = lhs.get, node.op
        if op == "exists":
            return lambda ev: get(ev) is not None
        if isinstance(node.rhs, FieldValue):
            return self.compare_fields(lhs, op, self.operand(node.rhs.operand))
        if isinstance(node.rhs, ValueList):
            values = frozenset(self.constant(item, lhs.type) for item in node.rhs.items)
            if op == "pmatch":
                return _over(lhs, _pmatch([str(v) for v in values]), any_=True)
            if lhs.is_list and not lhs.any_match:
                if op == "in":
                    return lambda ev: bool(v := get(ev)) and all(x in values for x in v)  # type: ignore[union-attr]
                return lambda ev: bool(v := get(ev)) and any(x in values for x in v)  # type: ignore[union-attr]
            if lhs.is_list:
                return lambda ev: bool(v := get(ev)) and any(x in values for x in v)  # type: ignore[union-attr]
            return lambda ev: get(ev) in values
        assert isinstance(node.rhs, Literal)
        c = self.constant(node.rhs, lhs.type)
        if not lhs.is_list:
            fast = _scalar_fast(get, op, c)
            if fast is not None:
                return fast
        if op == "!=":
            if lhs.is_list:
                return lambda ev: bool(v := get(ev)) and all(x != c for x in v)  # type: ignore[union-attr]
            return lambda ev: (v := get(ev)) is not None and v != c
        return _over(lhs, _test(op, c), any_=True)

    def negated(self, node: Compare) -> Pred | None:
        """``not`` fused into the hottest comparisons of a scalar field (Falco's ``not ka.user.name in (...)``):
        one closure instead of two. None for other shapes. A missing value (None) fails the comparison, so
        its negation holds, as with the unfused ``not``."""
        if node.op not in ("in", "=", "==", "startswith") or isinstance(node.rhs, FieldValue) or node.rhs is None:
            return None
        lhs = self.operand(node.lhs)
        if lhs.is_list:
            return None
        get = lhs.get
        if isinstance(node.rhs, ValueList):
            if node.op != "in":
                return None
            values = frozenset(self.constant(item, lhs.type) for item in node.rhs.items)
            return lambda ev: get(ev) not in values  # constants are never None
        c = self.constant(node.rhs, lhs.type)
        if node.op == "startswith":
            return lambda ev: (v := get(ev)) is None or not v.startswith(c)  # type: ignore[union-attr]
        if node.op in ("=", "=="):
            return lambda ev: get(ev) != c
        return None

    def compare_fields(self, lhs: _Operand, op: str, rhs: _Operand) -> Pred:
        get_l, get_r = lhs.get, rhs.get

        def pred(ev: Any) -> bool:
            a, b = get_l(ev), get_r(ev)
            if a is None or b is None:
                return False
            if isinstance(b, tuple):
                if op in ("in", "intersects"):
                    return any(x in b for x in a) if isinstance(a, tuple) else a in b
                b = b[0] if b else ""
            if type(a) is not type(b) and not isinstance(a, tuple):
                a, b = str(a), str(b)
            if isinstance(a, tuple):
                return any(_test(op, b)(x) for x in a)
            return _test(op, b)(a)

        return pred


def _scalar_fast(get: Getter, op: str, c: Any) -> Pred | None:
    """Closures for the hottest shapes: a scalar field against one constant."""
    if op in ("=", "=="):
        return lambda ev: get(ev) == c
    if op == "startswith":
        return lambda ev: (v := get(ev)) is not None and v.startswith(c)  # type: ignore[union-attr]
    if op == "endswith":
        return lambda ev: (v := get(ev)) is not None and v.endswith(c)  # type: ignore[union-attr]
    if op == "contains":
        return lambda ev: (v := get(ev)) is not None and c in v  # type: ignore[operator]
    return None


def _over(lhs: _Operand, test: Callable[[Any], bool], any_: bool) -> Pred:
    get = lhs.get
    if lhs.is_list:
        return lambda ev: bool(v := get(ev)) and any(test(x) for x in v)  # type: ignore[union-attr]
    return lambda ev: (v := get(ev)) is not None and test(v)


def _test(op: str, c: Any) -> Callable[[Any], bool]:
    """A one-argument test ``value op c`` (value never None)."""
    if op in ("=", "=="):
        return lambda v: bool(v == c)
    if op == "!=":
        return lambda v: bool(v != c)
    if op == "<":
        return lambda v: bool(v < c)
    if op == "<=":
        return lambda v: bool(v <= c)
    if op == ">":
        return lambda v: bool(v > c)
    if op == ">=":
        return lambda v: bool(v >= c)
    if op in ("in", "intersects"):
        return lambda v: v in c
    text = str(c)
    if op == "contains":
        return lambda v: text in str(v)
    if op == "icontains":
        low = text.lower()
        return lambda v: low in str(v).lower()
    if op == "startswith":
        return lambda v: str(v).startswith(text)
    if op == "endswith":
        return lambda v: str(v).endswith(text)
    if op in ("bcontains", "bstartswith"):
        try:
            needle = bytes.fromhex(text)
        except ValueError:
            raise RuleError(f"'{op}' takes hex bytes, not '{text}'") from None
        if op == "bcontains":
            return lambda v: needle in str(v).encode()
        return lambda v: str(v).encode().startswith(needle)
    if op in ("glob", "iglob"):
        flags = re.IGNORECASE if op == "iglob" else 0
        pattern = re.compile(fnmatch.translate(text), flags | re.DOTALL)
        return lambda v: pattern.match(str(v)) is not None
    if op == "regex":
        try:
            rx = re.compile(text)
        except re.error as exc:
            raise RuleError(f"bad regex '{text}': {exc}") from None
        # libsinsp matches the whole value (RE2::FullMatch)
        return lambda v: rx.fullmatch(str(v)) is not None
    if op == "pmatch":
        return _pmatch([text])
    raise RuleError(f"unknown operator '{op}'")


def _all(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev: a(ev) and b(ev)
    if len(preds) == 3:
        a, b, c = preds
        return lambda ev: a(ev) and b(ev) and c(ev)
    if len(preds) == 4:
        a, b, c, d = preds
        return lambda ev: a(ev) and b(ev) and c(ev) and d(ev)
    head, tail = _all(preds[:4]), _all(preds[4:])
    return lambda ev: head(ev) and tail(ev)


def _any(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev: a(ev) or b(ev)
    if len(preds) == 3:
        a, b, c = preds
        return lambda ev: a(ev) or b(ev) or c(ev)
    if len(preds) == 4:
        a, b, c, d = preds
        return lambda ev: a(ev) or b(ev) or c(ev) or d(ev)
    head, tail = _any(preds[:4]), _any(preds[4:])
    return lambda ev: head(ev) or tail(ev)
