"""The scan as a terminal table: a summary line (health, counts by severity), one row per finding,
then what policy suppressed and what could not be assessed."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from containerguard.models.advisory import SEVERITY_LEVELS
from containerguard.models.finding import Finding
from containerguard.models.report import ScanResult
from containerguard.pipeline.policy import HEALTHY, UNHEALTHY, severity_counts
from containerguard.pipeline.suppression import parse_suppression
from containerguard.registry import register
from containerguard.report._common import package_label, recorded_suppressions, table_order
from containerguard.report.base import VulnFormat

STYLES = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan", "NEGLIGIBLE": "dim",
          "UNKNOWN": "dim"}
_HEALTH_STYLES = {HEALTHY: "bold green", UNHEALTHY: "bold red"}
WIDTH = 160
"""Columns of the text written to a file (a terminal uses its own width)."""


@register("vuln-format", "table")
class ScanTable(VulnFormat):
    """Findings as a rich table."""

    name = "table"

    def write(self, result: ScanResult) -> str:
        """Plain text (no colour codes), as written with ``-o FILE``."""
        buffer = io.StringIO()
        render_scan(result, Console(file=buffer, width=WIDTH, color_system=None, force_terminal=False))
        return buffer.getvalue()

    def show(self, result: ScanResult, console: Console) -> None:
        """Print with colour on a terminal."""
        render_scan(result, console)


def render_scan(result: ScanResult, console: Console) -> None:
    """Print the whole report on ``console``."""
    a = result.sbom.artifact
    d = result.sbom.distro
    os_name = (d.pretty_name or f"{d.id} {d.version_id}".strip()) if d else "unknown"
    console.print(Text(f"{a.name}  {a.manifest_digest or a.config_digest}".rstrip(), style="bold"))
    console.print(Text(f"OS: {os_name}   packages: {len(result.sbom.packages)}"))
    if result.db_summary:
        console.print(Text(f"Database: {result.db_summary}"))
    console.print(summary_line(result))
    if result.findings:
        console.print(_findings_table(result.findings, with_title=console.width >= TITLE_MIN_WIDTH))
    _suppressed(result, console)
    for note in result.notes:
        console.print(Text(f"Not assessed: {note.subject}: {note.reason}", style="yellow"))


def summary_line(result: ScanResult) -> Text:
    """``Health: Unhealthy   Total: 3 (CRITICAL: 1, HIGH: 2, …)``."""
    counts = severity_counts(result.findings)
    line = Text("Health: ")
    line.append(result.health or "unknown", style=_HEALTH_STYLES.get(result.health, ""))
    line.append(f"   Total: {len(result.findings)} (")
    for i, level in enumerate(SEVERITY_LEVELS):
        if i:
            line.append(", ")
        line.append(f"{level}: {counts[level]}", style=STYLES[level] if counts[level] else "")
    line.append(")")
    return line


TITLE_MIN_WIDTH = 110
"""Below this terminal width the title column is left out so ids and versions stay readable."""


def _findings_table(findings: tuple[Finding, ...], with_title: bool = True) -> Table:
    table = Table(show_lines=False)
    # Ids and versions are what people copy: never wrap them; the title gives way first.
    table.add_column("Package", overflow="fold", min_width=8)
    table.add_column("Vulnerability", no_wrap=True, min_width=19)
    table.add_column("Severity", no_wrap=True, min_width=10)
    table.add_column("Installed", overflow="fold", min_width=12)
    table.add_column("Fixed", overflow="fold", min_width=12)
    if with_title:
        table.add_column("Title", overflow="ellipsis", no_wrap=True, max_width=60)
    for f in sorted(findings, key=table_order):
        fixed = f.fixed_version or (f.fix_state if f.fix_state and f.fix_state != "fixed" else "")
        level = Text(f.severity.level, style=STYLES.get(f.severity.level, ""))
        row: list[str | Text] = [package_label(f.package), f.id, level, f.installed_version, fixed]
        table.add_row(*row, *([f.title] if with_title else []))
    return table


def _suppressed(result: ScanResult, console: Console) -> None:
    if not result.suppressed:
        return
    kinds = Counter(parse_suppression(f.suppressed_by).kind for f in result.suppressed)
    parts = [f"{label}: {kinds[kind]}" for kind, label in
             (("ignorefile", "ignore file"), ("vex", "VEX"), ("filter", "filters")) if kinds[kind]]
    console.print(Text(f"Suppressed: {len(result.suppressed)} ({', '.join(parts)})"))
    listed = recorded_suppressions(result.suppressed)
    if not listed:
        return
    table = Table(title="Suppressed by policy", show_lines=False)
    for col in ("Package", "Vulnerability", "Severity", "Installed", "Suppressed by"):
        table.add_column(col, overflow="fold")
    for f in sorted(listed, key=table_order):
        table.add_row(package_label(f.package), f.id, f.severity.level, f.installed_version, f.suppressed_by)
    console.print(table)
