"""Field tables: for each event source, the Falco field names it fills and how to extract them.

One module per source (``k8s_audit``, ``process``, ``docker``), each registering a :class:`FieldSource`
with ``@register("rule_source")``. A field value is a ``str``, an ``int``, a ``bool``, a tuple of strings
(list fields) or None when the event does not carry it (Falco's "not available": every comparison
with it is false).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from containerguard.registry import load_plugins, plugins

from ..model import Event

Value = str | int | bool | tuple[str, ...] | None
Getter = Callable[[Event], Value]
GetterFactory = Callable[[str | None], Getter]


class Arg(Enum):
    """What a field accepts between brackets."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field: its Falco name and type, and a factory binding its bracket argument to a getter."""

    name: str
    type: str
    desc: str
    make: GetterFactory
    is_list: bool = False
    arg: Arg = Arg.NONE
    index_arg: bool = False  # the argument, when given, must be an integer
    any_match: bool = False  # like proc.aname: a comparison holds if it holds for any of the values
    # Facts the compiler folds into constants (Falco's always_true/never_true macros test a field like this):
    always: bool = False  # every event of the source fills it: `exists` always holds
    nonzero: bool = False  # an integer never 0: `= 0` never holds, `!= 0` always does

    def getter(self, arg: str | None) -> Getter:
        """The extractor for this field with its argument bound."""
        return self.make(arg)


@dataclass(frozen=True, slots=True)
class FieldSource:
    """An event source as the rule engine sees it.

    ``rule_sources`` are the values of a rule's ``source:`` it serves (``syscall`` is Falco's name for
    the process source). ``index_fields`` are scalar fields whose values the engine uses to pick the
    rules that can match an event (the generalisation of Falco's per-event-type buckets).
    ``falco_fields`` are Falco field names of this kind that no containerguard source fills; a rule
    using one is loaded inactive with a warning naming it.
    """

    name: str
    rule_sources: tuple[str, ...]
    fields: Mapping[str, FieldDef]
    index_fields: tuple[str, ...]
    time_ns: Callable[[Event], int]
    falco_fields: frozenset[str] = frozenset()
    falco_prefixes: tuple[str, ...] = ()
    output_aliases: Mapping[str, str] = field(default_factory=dict)

    def knows_unfilled(self, name: str) -> bool:
        """Is ``name`` a Falco field of this kind that we cannot fill?"""
        return name in self.falco_fields or name.startswith(self.falco_prefixes)


def simple(name: str, type_: str, desc: str, fn: Getter, *, is_list: bool = False) -> FieldDef:
    """A field without argument."""
    return FieldDef(name, type_, desc, lambda _arg: fn, is_list=is_list)


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps with options builds one per call


def json_str(value: Any) -> str:
    """A JSON value as the k8saudit plugin renders it: strings as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    cls = value.__class__
    if cls is int:  # the common scalars (response codes, uids, flags) without the encoder's setup
        return str(value)
    if cls is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return _COMPACT.encode(value)


def sources() -> dict[str, FieldSource]:
    """Every registered source by its name."""
    load_plugins("containerguard.rules.fields")
    return {name: src for name, src in plugins("rule_source").items() if isinstance(src, FieldSource)}


def source_for_rule(rule_source: str) -> FieldSource | None:
    """The source serving rules that declare ``source: rule_source``."""
    for src in sources().values():
        if rule_source in src.rule_sources:
            return src
    return None
