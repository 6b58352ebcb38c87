"""Kubernetes audit events (``audit.k8s.io/v1``): JSONL files as the log backend writes them (one Event per
line) and EventList bodies as the webhook backend POSTs them — also accepted one per line in a file.

:func:`events_from_body` is what the server's audit webhook calls with the request body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import count
from typing import Any

import orjson

from containerguard.rules.model import Event

from .base import MAX_EVENT_BYTES, ReadStats, json_lines

SOURCE = "k8s_audit"
_NUMBERS = count(1)


def _is_event(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("auditID"), str) and obj.get("kind", "Event") == "Event"


def events_from_object(obj: Any, stats: ReadStats, where: str = "<body>") -> list[Event]:
    """Events from one parsed JSON value: an audit Event or an EventList; anything else is skipped."""
    if isinstance(obj, dict) and obj.get("kind") == "EventList":
        items = obj.get("items")
        if not isinstance(items, list):
            stats.skip(where, "EventList without items")
            return []
        out = []
        for i, item in enumerate(items):
            if _is_event(item):
                out.append(Event(SOURCE, item, next(_NUMBERS)))
            else:
                stats.skip(f"{where} item {i}", "not an audit.k8s.io Event (no auditID)")
        stats.events += len(out)
        return out
    if _is_event(obj):
        stats.events += 1
        return [Event(SOURCE, obj, next(_NUMBERS))]
    stats.skip(where, "not an audit.k8s.io Event or EventList")
    return []


def events_from_body(body: bytes | str, stats: ReadStats | None = None) -> list[Event]:
    """Events from a webhook request body (an EventList, or a single Event); never raises on bad input."""
    stats = stats or ReadStats()
    if len(body) > MAX_EVENT_BYTES * 16:
        stats.skip("<body>", "webhook body too large")
        return []
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        stats.skip("<body>", f"not JSON ({str(exc)[:80]})")
        return []
    return events_from_object(obj, stats)


def read_events(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[Event]:
    """Events from a JSONL stream of audit Events and/or EventLists."""
    for lineno, obj in json_lines(lines, stats, name):
        yield from events_from_object(obj, stats, f"{name}:{lineno}")
