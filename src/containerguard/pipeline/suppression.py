"""Why policy suppressed a finding, as the one-line text kept in ``Finding.suppressed_by``.

Policy writes the text, renderers read it back (SARIF ``suppressions``, CycloneDX ``analysis``), so the
format lives here, in one place:

- ``filter:severity`` / ``filter:ignore-unfixed``: removed by a command-line filter;
- ``ignorefile:PATH:LINE`` or ``ignorefile:PATH:LINE (statement)``: an ignore-file entry;
- ``vex:STATUS by FILE`` or ``vex:STATUS (JUSTIFICATION) by FILE``: an OpenVEX statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FILTER = "filter"
IGNOREFILE = "ignorefile"
VEX = "vex"

_IGNORE = re.compile(r"^ignorefile:(?P<source>.+?:\d+)(?: \((?P<statement>.*)\))?$", re.DOTALL)
_VEX = re.compile(r"^vex:(?P<status>[a-z_]+)(?: \((?P<justification>[a-z_]+)\))? by (?P<source>.+)$", re.DOTALL)


@dataclass(frozen=True)
class Suppression:
    """One reason a finding was suppressed."""

    kind: str
    """``filter``, ``ignorefile`` or ``vex``."""
    detail: str = ""
    """Filter name (``severity``, ``ignore-unfixed``) or VEX status (``not_affected``, ``fixed``)."""
    source: str = ""
    """``PATH:LINE`` of an ignore entry, or the VEX document."""
    justification: str = ""
    """OpenVEX justification (``vulnerable_code_not_present``…)."""
    statement: str = ""
    """Free text: the ignore entry's statement or the VEX impact statement."""

    def __str__(self) -> str:
        if self.kind == FILTER:
            return f"filter:{self.detail}"
        if self.kind == IGNOREFILE:
            return f"ignorefile:{self.source}" + (f" ({self.statement})" if self.statement else "")
        why = f" ({self.justification})" if self.justification else ""
        return f"vex:{self.detail}{why} by {self.source}"

    @property
    def is_filter(self) -> bool:
        """Whether a command-line filter (not a decision recorded in a file) removed the finding."""
        return self.kind == FILTER


def parse_suppression(text: str) -> Suppression:
    """Read back the text :class:`Suppression` writes; unknown text is kept whole as ``detail``."""
    if text.startswith("filter:"):
        return Suppression(FILTER, text[len("filter:"):])
    m = _IGNORE.match(text)
    if m:
        return Suppression(IGNOREFILE, source=m["source"], statement=m["statement"] or "")
    m = _VEX.match(text)
    if m:
        return Suppression(VEX, m["status"], m["source"], m["justification"] or "")
    return Suppression("other", text)
