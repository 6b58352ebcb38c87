"""Falco output templates: ``%field`` / ``%field[arg]`` / ``%{field}`` substitution, ``<NA>`` for missing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import FieldSource, Getter, Value
from .model import Event

_REF = re.compile(r"%(?:\{([^}]+)\}|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)(\[[^\]]*\])?)")
NA = "<NA>"


def render_value(value: Value) -> str:
    """A field value as Falco prints it: lists as ``(a,b)``, booleans lowercase, missing as ``<NA>``."""
    if value is None:
        return NA
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ",".join(value) + ")"
    return str(value)


def json_value(value: Value) -> Any:
    """A field value in ``output_fields``: null when missing, lists rendered as in the text."""
    if value is None or isinstance(value, str | int):
        return value
    return render_value(value)


@dataclass(frozen=True, slots=True)
class OutputTemplate:
    """A compiled template: literal text interleaved with field getters."""

    parts: tuple[str | tuple[str, Getter], ...]
    unknown: tuple[str, ...]

    def render(self, ev: Event) -> tuple[str, dict[str, Any]]:
        """The message and the ``output_fields`` map for one event."""
        text: list[str] = []
        fields: dict[str, Any] = {}
        for part in self.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            name, get = part
            value = get(ev)
            text.append(render_value(value))
            fields[name] = json_value(value)
        return "".join(text).strip(), fields


def _missing(_ev: Event) -> Value:
    return None


def compile_output(template: str, source: FieldSource,
                   resolve: Callable[[str, str | None], Getter | None]) -> OutputTemplate:
    """Compile ``template`` for ``source``; ``resolve(name, arg)`` returns a getter or None if unknown."""
    for alias, expansion in source.output_aliases.items():
        template = template.replace("%" + alias, expansion)
    parts: list[str | tuple[str, Getter]] = []
    unknown: list[str] = []
    pos = 0
    for m in _REF.finditer(template):
        parts.append(template[pos:m.start()])
        pos = m.end()
        ref = m.group(1) or m.group(2)
        arg_text = m.group(3)
        if m.group(1):
            name, _, rest = ref.partition("[")
            arg = rest[:-1] if rest.endswith("]") else None
        else:
            name, arg = ref, (arg_text[1:-1] if arg_text else None)
        display = name if arg is None else f"{name}[{arg}]"
        getter = resolve(name, arg)
        if getter is None:
            if not source.knows_unfilled(name):
                unknown.append(display)
            getter = _missing
        parts.append((display, getter))
    parts.append(template[pos:])
    return OutputTemplate(tuple(p for p in parts if p != ""), tuple(unknown))
