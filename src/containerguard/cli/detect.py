"""``containerguard detect``: replay recorded events through Falco-compatible rules, offline."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console

from containerguard.errors import ConfigError

EXIT_ERROR = 2
SOURCES = ("k8s_audit", "process", "docker", "falco", "auditd")
RULE_SOURCE = {"auditd": "process"}  # an audit log replays as process events


def builtin_rule_files() -> list[Path]:
    """The built-in rule pack, one file per source."""
    folder = resources.files("containerguard.rules") / "builtin"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def detect(
    events: Annotated[str, typer.Argument(help="events file: JSONL, or an audit.log for auditd ('-' for stdin)")],
    source: Annotated[str, typer.Option("--source", "-s", help="k8s_audit | process | docker | falco | auditd")],
    rules: Annotated[list[Path] | None, typer.Option("--rules", "-r", help="rules file (repeatable, in order)")] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="load the built-in rule pack first")] = False,
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json (one Falco-style alert per line)")] = "table",
    all_matches: Annotated[bool, typer.Option("--all-matches", help="report every matching rule per event "
                                                                    "(Falco's rule_matching: all)")] = False,
    min_priority: Annotated[str, typer.Option("--min-priority", help="lowest priority to report")] = "debug",
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="print every load warning")] = False,
) -> int:
    """Replay recorded events through Falco-compatible rules and print the alerts."""
    # The rule engine loads only when this command runs, so other commands start faster.
    from containerguard.pipeline.replay import _print_diagnostics, _table, alert_json, load_rules, replay
    from containerguard.rules.model import Alert, parse_priority
    from containerguard.sources.events.base import ReadStats

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
        active = [r for r in compiled.rules if r.enabled and r.event_source == RULE_SOURCE.get(source, source)]
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
