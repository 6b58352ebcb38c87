"""Fields every source fills the same way (Falco's generic ``evt.*`` fields), and time helpers."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from ..model import Event
from . import FieldDef, Value, simple

_HOSTNAME = socket.gethostname()


def iso8601(ns: int) -> str:
    """Falco's ISO 8601 time with nanoseconds, UTC: ``2024-05-01T10:00:00.123456789Z``."""
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def clock(ns: int) -> str:
    """Falco's ``evt.time``: ``HH:MM:SS.nnnnnnnnn`` (UTC here, for reproducible output)."""
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%H:%M:%S") + f".{frac:09d}"


@lru_cache(maxsize=8192)
def _utc_seconds(head: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) -> epoch seconds; cached because a log's events share their seconds."""
    try:
        return int(datetime.fromisoformat(head + "+00:00").timestamp())
    except ValueError:
        return None


def parse_time(value: object) -> int | None:
    """RFC 3339 text (any fraction digits) or integer/float seconds/nanoseconds -> epoch nanoseconds."""
    if value.__class__ is str and len(value) >= 20 and value[-1] == "Z":
        text: str = value
        secs = _utc_seconds(text[:19])
        if secs is not None:
            if len(text) == 20:
                return secs * 1_000_000_000
            frac = text[20:-1]
            if text[19] == "." and frac.isdigit():
                return secs * 1_000_000_000 + int((frac + "000000000")[:9])
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 10**14 else value * 1_000_000_000
    if isinstance(value, float):
        return int(value * 1_000_000_000)
    if not isinstance(value, str) or len(value) < 19:
        return None
    text = value.strip()
    frac_ns = 0
    head, dot, rest = text.partition(".")
    tz = ""
    if dot:
        digits = ""
        for i, ch in enumerate(rest):
            if not ch.isdigit():
                tz = rest[i:]
                break
            digits += ch
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
    else:
        head, tz = text[:19], text[19:]
    try:
        base = datetime.fromisoformat(head + (tz.replace("Z", "+00:00") or "+00:00"))
    except ValueError:
        return None
    return int(base.timestamp()) * 1_000_000_000 + frac_ns


def generic_fields(source_name: str, time_ns: Callable[[Event], int]) -> list[FieldDef]:
    """``evt.num``, ``evt.time*``, ``evt.source``, ``evt.hostname`` for a source."""

    def num(ev: Event) -> Value:
        return ev.num

    return [
        simple("evt.num", "uint64", "event number", num),
        simple("evt.time", "string", "event time (HH:MM:SS.nnnnnnnnn, UTC)", lambda ev: clock(time_ns(ev))),
        simple("evt.time.s", "string", "event time (HH:MM:SS)", lambda ev: clock(time_ns(ev))[:8]),
        simple("evt.time.iso8601", "string", "event time, ISO 8601", lambda ev: iso8601(time_ns(ev))),
        simple("evt.datetime", "string", "event date and time", lambda ev: iso8601(time_ns(ev))),
        simple("evt.rawtime", "uint64", "event time, epoch nanoseconds", time_ns),
        simple("evt.source", "string", "event source", lambda _ev: source_name),
        simple("evt.hostname", "string", "host that produced the event", lambda _ev: _HOSTNAME),
    ]
