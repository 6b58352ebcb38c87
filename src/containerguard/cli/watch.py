"""``containerguard watch``: detect live on this host (process executions or Docker events) and print the
alerts as they happen, or send them to the server."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from containerguard.errors import ConfigError

EXIT_ERROR = 2


def watch(
    source: Annotated[str, typer.Option("--source", "-s", help="process | docker")],
    rules: Annotated[list[Path] | None, typer.Option("--rules", "-r", help="rules file (repeatable, in order)")] = None,
    builtin: Annotated[bool, typer.Option("--builtin", help="load the built-in rule pack first")] = False,
    fmt: Annotated[str, typer.Option("-f", "--format", help="text | json (one Falco-style alert per line)")] = "text",
    server: Annotated[str, typer.Option("--server", help="send alerts to this containerguard server")] = "",
    token: Annotated[str, typer.Option("--token", envvar="CONTAINERGUARD_TOKEN", help="agent token")] = "",
    docker_host: Annotated[str, typer.Option("--docker-host", help="Docker Engine URL (default: DOCKER_HOST)")] = "",
    no_scan: Annotated[bool, typer.Option("--no-scan", help="do not evaluate processes already running")] = False,
    audit_log: Annotated[str, typer.Option("--audit-log", help="process source: also read execs from this auditd "
                                           "log (auto: /var/log/audit/audit.log when readable; off)")] = "auto",
    min_priority: Annotated[str, typer.Option("--min-priority", help="lowest priority to report")] = "debug",
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="print every load warning")] = False,
) -> int:
    """Watch this host live: every exec (kernel process-events connector, needs root) or every Docker
    event goes through the rules; alerts print as they happen (or go to --server). Ctrl-C stops."""
    # The rule engine and event sources load only when this command runs: other commands start faster.
    from containerguard.pipeline.replay import _print_diagnostics, alert_json, load_rules
    from containerguard.pipeline.watch import LIVE_SOURCES, LiveDetector, ServerSink
    from containerguard.rules.fields.common import iso8601
    from containerguard.rules.model import Alert, parse_priority
    from containerguard.sources.events.auditd import resolve_audit_log

    if source not in LIVE_SOURCES:
        raise ConfigError(f"--source must be one of {', '.join(LIVE_SOURCES)}")
    if fmt not in ("text", "json"):
        raise ConfigError("-f must be text or json")
    if server and not token:
        raise ConfigError("--server needs --token (an agent token: containerguard token create --role agent)")
    floor = parse_priority(min_priority)
    if floor is None:
        raise ConfigError(f"unknown priority '{min_priority}'")
    if not rules and not builtin:
        builtin = True  # a live watch without rules would be silent: default to the built-in pack
    err = Console(stderr=True)
    compiled = load_rules(rules or [], builtin)
    _print_diagnostics(compiled, verbose, err)
    if not any(r.enabled and r.event_source == source for r in compiled.rules):
        err.print(f"containerguard: error: no rule for the '{source}' source loaded", highlight=False)
        return EXIT_ERROR
    lock = threading.Lock()
    poster = ServerSink(server, token, alert_json) if server else None

    def show(alert: Alert) -> None:
        if poster is not None:
            poster(alert)
        message = alert.output.split(": ", 1)[-1].removeprefix(alert.priority + " ")
        line = json.dumps(alert_json(alert), separators=(",", ":")) if fmt == "json" else \
            f"{iso8601(alert.time_ns)} {alert.priority} {alert.rule} [{alert.tactic or '-'}] {message}"
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    audit_path = resolve_audit_log(audit_log) if source == "process" else None
    detector = LiveDetector(source, compiled, show, docker_host=docker_host or None, scan_existing=not no_scan,
                            min_priority=floor, audit_log=audit_path)
    detector.start()
    err.print(f"watching {source} events ({detector.mode}); Ctrl-C stops", highlight=False)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        detector.stop()
        if poster is not None:
            poster.close()
            err.print(f"{poster.sent} alert(s) sent, {poster.failed} failed, {poster.dropped} dropped",
                      highlight=False)
    return 0
