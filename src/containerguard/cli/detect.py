"""``containerguard detect``: replay recorded events through Falco-compatible rules, offline."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from containerguard.errors import ConfigError
from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.fields.common import iso8601
from containerguard.rules.loader import Loader
from containerguard.rules.model import Alert, Event, parse_priority
from containerguard.sources.events import docker_jsonl, falco_json, k8s_audit, process_jsonl
from containerguard.sources.events.base import ReadStats

EXIT_ERROR = 2
SOURCES = ("k8s_audit", "process", "docker", "falco")


def builtin_rule_files() -> list[Path]:
    """The built-in rule pack, one file per source."""
    folder = resources.files("containerguard.rules") / "builtin"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


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
               "docker": docker_jsonl.read_events}
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


def detect(
    events: Annotated[str, typer.Argument(help="events file: JSONL ('-' for stdin)")],
    source: Annotated[str, typer.Option("--source", "-s", help="k8s_audit | process | docker | falco")],
    rules: Annotated[list[Path] | None, typer.Option("--rules", "-r", help="rules file (repeatable, in order)")] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="load the built-in rule pack first")] = False,
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json (one Falco-style alert per line)")] = "table",
    all_matches: Annotated[bool, typer.Option("--all-matches", help="report every matching rule per event "
                                                                    "(Falco's rule_matching: all)")] = False,
    min_priority: Annotated[str, typer.Option("--min-priority", help="lowest priority to report")] = "debug",
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="print every load warning")] = False,
) -> int:
    """Replay recorded events through Falco-compatible rules and print the alerts."""
    if source not in SOURCES:
        raise ConfigError(f"--source must be one of {', '.join(SOURCES)}")
    if fmt not in ("table", "json"):
        raise ConfigError("-f must be table or json")
    floor = parse_priority(min_priority)
    if floor is None:
        raise ConfigError(f"unknown priority '{min_priority}'")
    err = Console(stderr=True)
    compiled = None
    if source != "falco":
        if not rules and not builtin:
            raise ConfigError("give rules files with --rules FILE or use --builtin")
        compiled = load_rules(rules or [], builtin)
        _print_diagnostics(compiled, verbose, err)
        active = [r for r in compiled.rules if r.enabled and r.event_source == source]
        if not active:
            err.print(f"containerguard: error: no rule for the '{source}' source loaded", highlight=False)
            return EXIT_ERROR
    try:
        stream: IO[bytes] = sys.stdin.buffer if events == "-" else open(events, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ConfigError(f"cannot read {events}: {exc.strerror}") from exc
    alerts: list[Alert] = []
    stats = ReadStats()
    with stream:
        matching = "all" if all_matches else "first"
        for alert in replay(source, stream, events, compiled, stats, rule_matching=matching, min_priority=floor):
            if fmt == "json":
                sys.stdout.write(json.dumps(alert_json(alert), separators=(",", ":")) + "\n")
            else:
                alerts.append(alert)
    if fmt == "table":
        _table(alerts, Console())
    skipped = f", {stats.skipped} skipped" if stats.skipped else ""
    err.print(f"{stats.events} events{skipped}", highlight=False)
    for reason in stats.reasons[:5] if verbose else stats.reasons[:1]:
        err.print(f"  skipped {reason}", highlight=False, markup=False)
    return 0
