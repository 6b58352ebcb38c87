"""Replay recorded events through compiled rules (the work behind ``containerguard detect``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.fields.common import iso8601
from containerguard.rules.loader import Loader
from containerguard.rules.model import Alert, Event
from containerguard.sources.events import auditd, docker_jsonl, falco_json, k8s_audit, process_jsonl
from containerguard.sources.events.base import ReadStats


def builtin_rule_files() -> list[Path]:
    """The built-in rule pack, one file per source."""
    from containerguard.cli.detect import builtin_rule_files as files

    return files()


def alert_json(alert: Alert) -> dict[str, Any]:
    """Falco's ``json_output`` shape plus ``tactic`` (and ``techniques``)."""
    return {
        "hostname": alert.hostname,
        "output": alert.output,
        "output_fields": alert.output_fields,
        "priority": alert.priority,
        "rule": alert.rule,
        "source": alert.source,
        "tags": list(alert.tags),
        "time": iso8601(alert.time_ns),
        "tactic": alert.tactic,
        "techniques": list(alert.techniques),
    }


def load_rules(rule_files: list[Path], builtin: bool) -> CompiledRules:
    """Load the built-in pack (first, so user files can override it) and the given files, in order."""
    loader = Loader()
    for path in [*(builtin_rule_files() if builtin else []), *rule_files]:
        loader.load_path(path)
    return compile_rules(loader.rs)


def _events(source: str, stream: IO[bytes], name: str, stats: ReadStats) -> Iterator[Event]:
    readers = {"k8s_audit": k8s_audit.read_events, "process": process_jsonl.read_events,
               "docker": docker_jsonl.read_events, "auditd": auditd.read_events}
    return readers[source](stream, stats, name)


def replay(source: str, stream: IO[bytes], name: str, compiled: CompiledRules | None, stats: ReadStats, *,
           rule_matching: str = "first", min_priority: str = "Debug") -> Iterator[Alert]:
    """Alerts for the events in ``stream`` (Falco JSON alerts pass through when source is ``falco``)."""
    if source == "falco":
        yield from falco_json.read_alerts(stream, stats, name)
        return
    assert compiled is not None
    engine = Engine(compiled, rule_matching=rule_matching, min_priority=min_priority)
    yield from engine.run(_events(source, stream, name, stats))


def _print_diagnostics(compiled: CompiledRules, verbose: bool, err: Console) -> None:
    for diag in compiled.diagnostics:
        if diag.is_error or verbose:
            err.print(str(diag), highlight=False, markup=False, soft_wrap=True)
    hidden = [d for d in compiled.diagnostics if not d.is_error]
    if hidden and not verbose:
        err.print(f"{len(hidden)} warning(s) ({len(compiled.inactive)} rule(s) inactive: fields no source fills "
                  "or other sources); -v lists them", highlight=False)


def _table(alerts: list[Alert], out: Console) -> None:
    table = Table(show_lines=False)
    for col in ("time", "priority", "rule", "tactic", "output"):
        table.add_column(col, overflow="fold")
    for a in alerts:
        table.add_row(iso8601(a.time_ns), a.priority, a.rule, a.tactic or "", a.output.split(": ", 1)[-1])
    out.print(table)


