"""What every event reader shares: line-delimited JSON with size limits and skip counters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

# An audit event with a large request object is a few hundred KiB; anything past this is hostile or broken.
MAX_EVENT_BYTES = 4 << 20
_MAX_REASONS = 20


@dataclass(slots=True)
class ReadStats:
    """Counts of what a reader took and what it skipped, with the first few reasons."""

    events: int = 0
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        """Count one skipped record."""
        self.skipped += 1
        if len(self.reasons) < _MAX_REASONS:
            self.reasons.append(f"{where}: {reason}")


def json_lines(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; oversized or invalid lines are skipped."""
    for lineno, line in enumerate(lines, 1):
        if len(line) > MAX_EVENT_BYTES:
            stats.skip(f"{name}:{lineno}", f"line longer than {MAX_EVENT_BYTES >> 20} MiB")
            continue
        if not line.strip():
            continue
        try:
            # orjson parses audit events about 3x faster than json, and the parse is most of the floor
            yield lineno, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            stats.skip(f"{name}:{lineno}", f"not JSON ({exc.__class__.__name__}: {str(exc)[:80]})")
