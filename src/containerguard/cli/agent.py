"""``containerguard agent``: assess this Docker host continuously and report to the server.

Registered by cli/main.py as ``app.command("agent")(agent)``.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from containerguard.config import load_settings
from containerguard.errors import ConfigError


def agent(
    server: Annotated[str, typer.Option("--server", envvar="CONTAINERGUARD_SERVER",
                                        help="the server's URL, e.g. https://cg.example.com")],
    token: Annotated[str, typer.Option("--token", envvar="CONTAINERGUARD_AGENT_TOKEN",
                                       help="the host's agent token (from POST /api/v1/hosts)")],
    interval: Annotated[float, typer.Option("--interval", help="minutes between assessments")] = 15.0,
    docker_host: Annotated[str | None, typer.Option(
        "--docker-host", help="Docker Engine URL (default: DOCKER_HOST, else unix:///var/run/docker.sock)")] = None,
    spool: Annotated[Path | None, typer.Option(
        "--spool", help="queue for snapshots the server has not taken yet (default: $CONTAINERGUARD_HOME/agent-spool)")
    ] = None,
    spool_limit: Annotated[int, typer.Option("--spool-limit", help="keep at most this many queued snapshots")] = 50,
    debounce: Annotated[float, typer.Option(
        "--debounce", help="seconds to wait after a Docker event before collecting (a burst is one snapshot)")] = 5.0,
    no_events: Annotated[bool, typer.Option("--no-events", help="collect on the interval only")] = False,
    once: Annotated[bool, typer.Option("--once", help="collect and push one snapshot, then exit")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="debug | info | warning | error")] = "info",
) -> int:
    """Assess this Docker host every N minutes and on Docker events; push to the server (queued on
    disk while it is unreachable)."""
    from containerguard.agent.client import ServerClient
    from containerguard.agent.runner import Agent, EventWatcher, run_once
    from containerguard.agent.spool import Spool
    from containerguard.sources.docker_host import collect_host, engine_url

    if interval <= 0:
        raise ConfigError(f"--interval must be > 0 minutes, got {interval}")
    if spool_limit < 1:
        raise ConfigError(f"--spool-limit must be >= 1, got {spool_limit}")
    if debounce < 0:
        raise ConfigError(f"--debounce must be >= 0 seconds, got {debounce}")
    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise ConfigError(f"unknown --log-level {log_level!r}")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    folder = spool or load_settings().home / "agent-spool"
    try:
        queue = Spool(folder, spool_limit)
    except OSError as exc:
        raise ConfigError(f"cannot use spool folder {folder}: {exc.strerror}") from exc
    client = ServerClient(server, token)
    worker = Agent(client, queue, lambda: collect_host(docker_host), interval * 60, debounce=debounce,
                   retry=min(30.0, interval * 60))
    try:
        if once:
            result = run_once(worker)
            if result.remaining:
                print(f"containerguard: server unreachable ({result.error}); {result.remaining} snapshot(s) "
                      f"queued in {folder}", file=sys.stderr)
                return 1
            for sent in result.sent:
                print(f"assessment {sent.get('id')}: {sent.get('health')} "
                      f"({sent.get('failed_scored_controls')} failed controls)")
            return 0
        watcher = None if no_events else EventWatcher(worker, engine_url(docker_host))
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        if watcher is not None:
            watcher.start()
        try:
            worker.run()
        except KeyboardInterrupt:
            pass
        finally:
            if watcher is not None:
                watcher.stop()
        return 0
    finally:
        client.close()
