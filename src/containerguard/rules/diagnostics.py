"""Load and compile problems, each pinned to a file and line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Loc:
    """Where an item or value was written (1-based line)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One error or warning; ``str()`` is the one line the CLI prints."""

    severity: str  # "error" | "warning"
    loc: Loc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        """Errors drop the item they concern; warnings do not."""
        return self.severity == "error"
