"""``containerguard scan host``: assess a Docker host against the CIS Docker Benchmark.

Registered by cli/main.py as ``scan_app.command("host")(host.scan_host)``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from containerguard.errors import ConfigError, SourceError
from containerguard.models.snapshot import HostSnapshot, SnapshotFormatError, snapshot_from_json, snapshot_to_json
from containerguard.report.host_base import get_host_format


def load_snapshot(path: Path) -> HostSnapshot:
    """Read a snapshot file; one-line :class:`SourceError` if it is unreadable, truncated or malformed."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read snapshot {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(f"snapshot {path} is not UTF-8 JSON") from exc
    try:
        return snapshot_from_json(text)
    except SnapshotFormatError as exc:
        raise SourceError(f"snapshot {path}: {exc}") from exc


def save_snapshot(snapshot: HostSnapshot, path: Path) -> None:
    """Write ``snapshot`` as JSON to ``path``."""
    try:
        path.write_text(snapshot_to_json(snapshot), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write snapshot {path}: {exc.strerror}") from exc


def scan_host(
    docker_host: Annotated[str | None, typer.Option(
        "--docker-host", help="Docker Engine URL (default: DOCKER_HOST, else unix:///var/run/docker.sock)")] = None,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", help="assess a saved snapshot instead of a live engine")] = None,
    save: Annotated[Path | None, typer.Option("--save-snapshot", help="also write the collected snapshot")] = None,
    all_containers: Annotated[bool, typer.Option(
        "--all-containers", help="section 5 also assesses stopped and created containers")] = False,
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json | sarif")] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write to FILE instead of stdout")] = None,
    exit_code: Annotated[int, typer.Option(
        "--exit-code", help="exit with this code when any control fails")] = 0,
) -> int:
    """Assess a Docker host against the CIS Docker Benchmark v1.6.0."""
    report = get_host_format(fmt)
    if not 0 <= exit_code <= 255:
        raise ConfigError(f"--exit-code must be 0-255, got {exit_code}")
    if snapshot is not None and docker_host is not None:
        raise ConfigError("--snapshot and --docker-host exclude each other")
    # The Docker SDK and the checks load only when a host is assessed: other commands start faster.
    from containerguard.pipeline.audit import audit
    from containerguard.sources.docker_host import collect_host

    facts = load_snapshot(snapshot) if snapshot is not None else collect_host(docker_host)
    if save is not None:
        save_snapshot(facts, save)
    result = audit(facts, all_containers=all_containers)
    if output is None:
        if report.name == "table":
            report.show(result, Console())
        else:
            sys.stdout.write(report.write(result))
    else:
        try:
            output.write_text(report.write(result), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror}") from exc
    return exit_code if result.recommendation.status == "Unhealthy" else 0
