"""Falco's ``json_output`` lines accepted as alerts, so an existing Falco deployment feeds the center."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from containerguard.rules import mitre
from containerguard.rules.fields.common import parse_time
from containerguard.rules.model import Alert, parse_priority

from .base import ReadStats, json_lines


def alert_from_json(obj: Any) -> Alert | None:
    """One Falco JSON alert -> Alert; None when it lacks a rule, a priority or a time."""
    if not isinstance(obj, dict):
        return None
    rule, priority, output = obj.get("rule"), obj.get("priority"), obj.get("output", "")
    if not isinstance(rule, str) or not isinstance(priority, str) or not isinstance(output, str):
        return None
    prio = parse_priority(priority)
    time_ns = parse_time(obj.get("time"))
    if prio is None or time_ns is None:
        return None
    tags = obj.get("tags") or []
    tags = tuple(str(t) for t in tags) if isinstance(tags, list) else ()
    fields = obj.get("output_fields")
    return Alert(time_ns=time_ns, rule=rule, priority=prio, source=str(obj.get("source") or "syscall"),
                 output=output, output_fields=fields if isinstance(fields, dict) else {}, tags=tags,
                 tactic=mitre.tactic(tags), techniques=mitre.techniques(tags), hostname=str(obj.get("hostname", "")))


def read_alerts(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[Alert]:
    """Alerts from Falco JSON lines; lines that are not Falco alerts are skipped and counted."""
    for lineno, obj in json_lines(lines, stats, name):
        alert = alert_from_json(obj)
        if alert is None:
            stats.skip(f"{name}:{lineno}", "not a Falco json_output alert (rule, priority, time)")
            continue
        stats.events += 1
        yield alert
