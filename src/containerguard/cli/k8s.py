"""``containerguard scan k8s``: assess Kubernetes manifests, kubectl dumps or a live cluster."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from containerguard.checks.k8s.base import K8sCheckConfig
from containerguard.errors import ConfigError
from containerguard.models.k8s import K8sAudit
from containerguard.pipeline.k8s_audit import STANDARDS, audit, check_standard, collect
from containerguard.report.k8s_base import K8sFormat, get_k8s_format


def scan_k8s(
    paths: Annotated[list[str] | None, typer.Argument(
        help="manifest files or folders, kubectl get -o json|yaml dumps, '-' for stdin; none: the live cluster",
        show_default=False)] = None,
    kubeconfig: Annotated[str, typer.Option(
        "--kubeconfig", help="kubeconfig of the live cluster (default $KUBECONFIG or ~/.kube/config)")] = "",
    context: Annotated[str, typer.Option("--context", help="kubeconfig context to use")] = "",
    standard: Annotated[str, typer.Option(
        "--standard", help=f"limit to one standard: {' | '.join(STANDARDS)}")] = "",
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json | sarif")] = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write to FILE instead of stdout")] = None,
    exit_code: Annotated[int, typer.Option("--exit-code", help="exit with this code when a check fails")] = 0,
    allowed_registry: Annotated[list[str] | None, typer.Option(
        "--allowed-registry", help="regular expression an image must match from its start (repeatable)")] = None,
    allowed_port: Annotated[list[int] | None, typer.Option(
        "--allowed-port", help="port a Service may listen on (repeatable)")] = None,
    allowed_host_path: Annotated[list[str] | None, typer.Option(
        "--allowed-host-path", help="host path prefix a hostPath volume may use (repeatable)")] = None,
    allowed_host_port: Annotated[list[int] | None, typer.Option(
        "--allowed-host-port", help="host port a container may bind (repeatable)")] = None,
    allowed_capability: Annotated[list[str] | None, typer.Option(
        "--allowed-capability", help="capability a container may add (repeatable)")] = None,
) -> int:
    """Assess Kubernetes workloads, RBAC and exposure (Pod Security Standards, CIS, Defender)."""
    check_standard(standard)
    report = get_k8s_format(fmt)
    if not 0 <= exit_code <= 255:
        raise ConfigError(f"--exit-code must be 0-255, got {exit_code}")
    config = K8sCheckConfig(
        allowed_registries=tuple(allowed_registry or ()), allowed_service_ports=tuple(allowed_port or ()),
        allowed_host_paths=tuple(allowed_host_path or ()), allowed_host_ports=tuple(allowed_host_port or ()),
        allowed_capabilities=tuple(allowed_capability or ()))
    _check_patterns(config.allowed_registries)
    result = audit(collect(paths or [], kubeconfig=kubeconfig, context=context), config, standard)
    _render(result, report, output)
    return exit_code if result.failures else 0


def _check_patterns(patterns: tuple[str, ...]) -> None:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ConfigError(f"--allowed-registry {p!r} is not a regular expression: {exc}") from exc


def _render(result: K8sAudit, report: K8sFormat, output: Path | None) -> None:
    if output is None:
        if report.name == "table":
            report.show(result, Console())
        else:
            sys.stdout.write(report.write(result))
        return
    try:
        output.write_text(report.write(result), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from exc
