"""Runtime events and alerts exchanged between event sources, the rule engine and the surfaces.

No I/O here. (Candidates for ``models/event.py``; kept beside the engine until the models package owns them.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Falco's priorities, most severe first; the rules file spelling (any case) maps to the output spelling.
PRIORITIES: tuple[str, ...] = (
    "Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug",
)
_PRIORITY_ALIASES = {p.lower(): p for p in PRIORITIES} | {"info": "Informational"}


def parse_priority(text: str) -> str | None:
    """Falco's output spelling of a rules-file priority (``WARNING`` -> ``Warning``), or None."""
    return _PRIORITY_ALIASES.get(text.strip().lower())


def priority_rank(priority: str) -> int:
    """0 for Emergency … 7 for Debug, as Falco orders them."""
    return PRIORITIES.index(priority)


class Event:
    """One normalized runtime event: the source's raw record plus a per-event cache of extracted fields.

    Mutable on purpose: the cache lets every rule read a derived field (a list of container images,
    a parsed URI) at the cost of one extraction per event.
    """

    __slots__ = ("cache", "data", "num", "source")

    def __init__(self, source: str, data: Any, num: int = 0) -> None:
        self.source = source
        self.data = data
        self.num = num
        self.cache: dict[Any, Any] = {}


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule matched an event: what Falco's ``json_output`` carries, plus the MITRE ATT&CK tactic."""

    time_ns: int
    rule: str
    priority: str
    source: str
    output: str
    output_fields: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    tactic: str | None = None
    techniques: tuple[str, ...] = ()
    hostname: str = ""
