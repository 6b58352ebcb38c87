"""What ``scan image`` and ``scan sbom`` share: policy from options, matching, rendering, the gate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from containerguard.config import load_settings
from containerguard.errors import ConfigError
from containerguard.models.advisory import SEVERITY_LEVELS

if TYPE_CHECKING:  # matching, policy and reports load when a scan runs, not at CLI start-up (`sbom` needs none)
    from containerguard.models.report import ScanResult
    from containerguard.models.sbom import Sbom
    from containerguard.pipeline.ignorefile import IgnoreRule
    from containerguard.pipeline.policy import Policy
    from containerguard.pipeline.vex import VexStatement
    from containerguard.report.base import VulnFormat

ALL_SEVERITIES = ",".join(SEVERITY_LEVELS)


def load_policy(severity: str, ignore_unfixed: bool, ignorefile: Path | None, vex: list[Path]) -> Policy:
    """The policy the options ask for; the ignore file defaults to one in the current directory."""
    from containerguard.pipeline.policy import Policy, find_ignorefile, parse_severities

    path = ignorefile if ignorefile is not None else find_ignorefile(Path.cwd())
    rules: tuple[IgnoreRule, ...] = ()
    if path is not None:
        from containerguard.pipeline.ignorefile import load_ignorefile

        rules = load_ignorefile(path)
    statements: tuple[VexStatement, ...] = ()
    if vex:
        from containerguard.pipeline.vex import load_vex

        statements = load_vex(vex)
    return Policy(severities=parse_severities(severity), ignore_unfixed=ignore_unfixed,
                  ignore_rules=rules, vex=statements)


def report_format(fmt: str) -> VulnFormat:
    """The report format for ``-f`` (checked before any work is done)."""
    from containerguard.report.base import get_vuln_format

    return get_vuln_format(fmt)


def scan(sbom: Sbom, policy: Policy) -> ScanResult:
    """Match ``sbom`` against the vulnerability database and apply ``policy``.
    :class:`~containerguard.errors.VulnDbError` (exit 2) when there is no database."""
    from containerguard.pipeline.policy import apply_policy
    from containerguard.pipeline.scan import match_sbom
    from containerguard.vulndb.store import SqliteVulnStore

    with SqliteVulnStore.open(load_settings()) as store:
        detected = match_sbom(sbom, store)
    return apply_policy(detected, policy)


def render(result: ScanResult, fmt: VulnFormat, output: Path | None) -> None:
    """Write the report to ``output`` or stdout (tables in colour on a terminal)."""
    if output is None:
        if fmt.name == "table":
            fmt.show(result, Console())
        else:
            sys.stdout.write(fmt.write(result))
        return
    try:
        output.write_text(fmt.write(result), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from exc


def check_exit_code(exit_code: int) -> None:
    """:class:`ConfigError` unless ``exit_code`` is a usable process exit code."""
    if not 0 <= exit_code <= 255:
        raise ConfigError(f"--exit-code must be 0-255, got {exit_code}")


def gate(result: ScanResult, exit_code: int) -> int:
    """The process exit code: ``exit_code`` when findings remain after policy, else 0."""
    return exit_code if result.findings else 0
