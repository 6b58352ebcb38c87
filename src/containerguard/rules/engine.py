"""Evaluate events against compiled rules and raise alerts.

Rules are bucketed by event source, then picked per event by the values of the source's index fields
(``evt.type`` for process and docker events, verb and resource for audit events): a rule is a candidate
only if its condition allows those values. Candidate lists are memoised per distinct key, so an event
costs the index lookups plus the conditions of the few rules that can match it. Within a bucket rules
keep definition order; ``rule_matching="first"`` (Falco's default) stops at the first match.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .compiler import CompiledRule, CompiledRules, Pred
from .fields import FieldSource, Getter, sources
from .fields.common import clock
from .model import Alert, Event, priority_rank

_MAX_BUCKETS = 4096


@dataclass(slots=True)
class EngineStats:
    """Counters an operator wants to see after a replay or in the agent's status."""

    events: int = 0
    alerts: int = 0
    eval_errors: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)


class _Bucket:
    """The rules of one source and their candidate lists per index key."""

    __slots__ = ("getters", "rules", "source", "table")

    def __init__(self, source: FieldSource, rules: list[CompiledRule]) -> None:
        self.source = source
        self.rules = rules
        self.getters: tuple[Getter, ...] = tuple(source.fields[f].getter(None) for f in source.index_fields)
        # key -> (condition, rule) pairs: the engine's inner loop reads the condition without an attribute lookup
        self.table: dict[Any, tuple[tuple[Pred, CompiledRule], ...]] = {}

    def key(self, ev: Event) -> Any:
        getters = self.getters
        if len(getters) == 1:
            return getters[0](ev)
        if len(getters) == 2:
            return getters[0](ev), getters[1](ev)
        return tuple(g(ev) for g in getters)

    def candidates(self, key: Any) -> tuple[tuple[Pred, CompiledRule], ...]:
        found = self.table.get(key)
        if found is not None:
            return found
        values = key if len(self.getters) != 1 else (key,)
        found = tuple((r.condition, r) for r in self.rules
                      if all(allowed is None or v in allowed for allowed, v in zip(r.index, values, strict=True)))
        if len(self.table) < _MAX_BUCKETS:
            self.table[key] = found
        return found


class Engine:
    """Runs compiled rules over events; ``process(event)`` returns that event's alerts."""

    def __init__(self, compiled: CompiledRules | Iterable[CompiledRule], *, rule_matching: str = "first",
                 min_priority: str = "Debug", hostname: str | None = None) -> None:
        if rule_matching not in ("first", "all"):
            raise ValueError("rule_matching must be 'first' or 'all'")
        rules = compiled.rules if isinstance(compiled, CompiledRules) else list(compiled)
        floor = priority_rank(min_priority)
        active = [r for r in rules if r.enabled and priority_rank(r.priority) <= floor]
        self.first = rule_matching == "first"
        self.hostname = socket.gethostname() if hostname is None else hostname
        self.stats = EngineStats()
        by_source: dict[str, list[CompiledRule]] = {}
        for rule in sorted(active, key=lambda r: r.order):
            by_source.setdefault(rule.event_source, []).append(rule)
        known = sources()
        self._buckets = {name: _Bucket(known[name], rs) for name, rs in by_source.items()}

    @property
    def rule_count(self) -> int:
        """How many rules are enabled and active."""
        return sum(len(b.rules) for b in self._buckets.values())

    def process(self, ev: Event) -> list[Alert]:
        """Alerts for one event (empty for most)."""
        self.stats.events += 1
        bucket = self._buckets.get(ev.source)
        if bucket is None:
            return []
        key = bucket.key(ev)
        found = bucket.table.get(key)
        if found is None:
            found = bucket.candidates(key)
        out: list[Alert] = []
        for condition, rule in found:
            try:
                if not condition(ev):
                    continue
            except (TypeError, ValueError, AttributeError, KeyError, IndexError):
                # hostile event data (a number where a string belongs…) fails this rule only
                self.stats.eval_errors += 1
                continue
            out.append(self._alert(rule, bucket.source, ev))
            if self.first:
                break
        return out

    def run(self, events: Iterable[Event]) -> Iterator[Alert]:
        """Alerts for a stream of events, in order."""
        for ev in events:
            yield from self.process(ev)

    def _alert(self, rule: CompiledRule, source: FieldSource, ev: Event) -> Alert:
        time_ns = source.time_ns(ev)
        message, fields = rule.output.render(ev)
        fields = {"evt.time": time_ns, **fields}
        self.stats.alerts += 1
        self.stats.per_rule[rule.name] = self.stats.per_rule.get(rule.name, 0) + 1
        return Alert(time_ns=time_ns, rule=rule.name, priority=rule.priority, source=rule.source,
                     output=f"{clock(time_ns)}: {rule.priority} {message}", output_fields=fields, tags=rule.tags,
                     tactic=rule.tactic, techniques=rule.techniques, hostname=self.hostname)
