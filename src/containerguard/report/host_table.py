"""``scan host -f table``: the inventory, then the results grouped by benchmark section."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from containerguard.models.check import HostAudit, Status
from containerguard.registry import register
from containerguard.report.host_base import HostFormat

STYLES = {Status.PASS: "green", Status.FAIL: "bold red", Status.WARN: "yellow", Status.INFO: "cyan",
          Status.NOT_APPLICABLE: "dim"}


@register("host-format", "table")
class HostTable(HostFormat):
    """Human-readable tables."""

    name = "table"

    def write(self, audit: HostAudit) -> str:
        """Plain text (no colour), for files."""
        buffer = io.StringIO()
        self.show(audit, Console(file=buffer, width=160, color_system=None, force_terminal=False))
        return buffer.getvalue()

    def show(self, audit: HostAudit, console: Console) -> None:
        """Inventory, one table per section, and the totals."""
        inv = audit.inventory
        console.print(Text(f"{inv.hostname} — {inv.os}, kernel {inv.kernel}, Docker {inv.docker_version} "
                           f"(API {inv.api_version}), storage driver {inv.storage_driver}", style="bold"))
        scope = "all containers" if audit.all_containers else "running containers"
        console.print(f"{inv.images} images, {inv.containers_running} running and {inv.containers_stopped} "
                      f"stopped containers; {audit.benchmark} (section 5: {scope})")
        titles = dict(audit.sections)
        order = [s for s, _ in audit.sections] + sorted({r.section for r in audit.results} - set(titles))
        for section in order:
            rows = [r for r in audit.results if r.section == section]
            if not rows:
                continue
            table = Table(title=f"{section} {titles.get(section, '')}".strip(), title_justify="left",
                          show_lines=False, expand=False)
            table.add_column("ID", no_wrap=True)
            table.add_column("Status", no_wrap=True)
            table.add_column("Resource", overflow="fold", max_width=28)
            table.add_column("Control", overflow="fold", max_width=50)
            table.add_column("Evidence", overflow="fold")
            for r in rows:
                table.add_row(r.id, Text(r.status.value, style=STYLES[r.status]), r.resource or "-",
                              r.title + ("" if r.automated else " (Manual)"), r.evidence)
            console.print(table)
        counts = Counter(r.status for r in audit.results)
        summary = ", ".join(f"{s.value}: {counts.get(s, 0)}" for s in Status)
        rec = audit.recommendation
        failing = len(rec.sub_assessments)
        console.print(Text(f"Health: {rec.status} ({failing} failed check{'' if failing == 1 else 's'})   {summary}",
                           style="bold red" if rec.status == "Unhealthy" else "bold green"))
