"""``scan k8s -f table``: per-control pass/fail counts with the failing resources, then every failure
(check, resource, file:line, why), then what could not be read or run."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from containerguard.models.k8s import FAIL, PASS, K8sAudit
from containerguard.pipeline.k8s_audit import control_summaries
from containerguard.registry import register
from containerguard.report.k8s_base import K8sFormat

STYLES = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan"}
WIDTH = 160
MAX_LISTED = 5
"""Failing resources named per control row (the findings table lists them all)."""
_RANK = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}


@register("k8s-format", "table")
class K8sTable(K8sFormat):
    """The assessment as rich tables."""

    name = "table"

    def write(self, audit: K8sAudit) -> str:
        """Plain text (no colour codes)."""
        buffer = io.StringIO()
        render(audit, Console(file=buffer, width=WIDTH, color_system=None, force_terminal=False))
        return buffer.getvalue()

    def show(self, audit: K8sAudit, console: Console) -> None:
        """Print with colour."""
        render(audit, console)


def render(audit: K8sAudit, console: Console) -> None:
    """Print the whole report on ``console``."""
    passed = sum(r.status == PASS for r in audit.results)
    failed = sum(r.status == FAIL for r in audit.results)
    console.print(Text(f"Kubernetes assessment{f' ({audit.standard})' if audit.standard else ''}", style="bold"))
    console.print(Text(f"Objects: {audit.objects}   Checks: {len(audit.specs)}   Passed: {passed}   Failed: {failed}"))
    controls = Table(title="Controls", show_lines=False)
    for column in ("Standard", "Control", "Pass", "Fail", "Failing resources"):
        controls.add_column(column, overflow="fold")
    for c in control_summaries(audit):
        more = len(c.failed) - MAX_LISTED
        listed = ", ".join(c.failed[:MAX_LISTED]) + (f" (+{more})" if more > 0 else "")
        fail = Text(str(len(c.failed)), style="red" if c.failed else "green")
        controls.add_row(c.standard, c.control, str(len(c.passed)), fail, listed)
    console.print(controls)
    failures = sorted(audit.failures, key=lambda r: (_RANK.get(r.severity, 9), r.check_id, r.resource))
    if failures:
        table = Table(title="Failures")
        widest = max(len(f"{r.file}:{r.line}") if r.file else 0 for r in failures)
        table.add_column("Severity")
        table.add_column("Check", overflow="fold", max_width=40)
        table.add_column("Resource", overflow="fold")
        # File:line is what a reader jumps to: keep it on one line when it reasonably fits.
        table.add_column("Location", overflow="fold", min_width=min(widest, 60))
        table.add_column("Why", overflow="fold", ratio=1)
        for r in failures:
            where = f"{r.file}:{r.line}" if r.file else ""
            table.add_row(Text(r.severity, style=STYLES.get(r.severity, "")), f"{r.check_id}\n{r.title}", r.resource,
                          where, r.message)
        console.print(table)
    for s in audit.skipped:
        where = f"{s.source}:{s.line}" if s.line else s.source
        console.print(Text(f"Skipped: {where}: {s.reason}", style="yellow"))
    for note in audit.notes:
        console.print(Text(f"Note: {note}", style="yellow"))
