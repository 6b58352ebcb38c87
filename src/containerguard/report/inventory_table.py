"""The inventory as a terminal table."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from containerguard.models.sbom import Sbom


def render_inventory(sbom: Sbom, console: Console) -> None:
    """Print the image summary and one row per package."""
    a = sbom.artifact
    os_name = (sbom.distro.pretty_name or f"{sbom.distro.id} {sbom.distro.version_id}") if sbom.distro else "unknown"
    if sbom.distro and sbom.distro.distroless:
        os_name += " (distroless)"
    console.print(f"[bold]{a.name}[/bold]  {a.manifest_digest or a.config_digest}")
    counts = Counter(p.type for p in sbom.packages)
    summary = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "no packages"
    console.print(f"OS: {os_name}   layers: {len(a.layers)}   packages: {len(sbom.packages)} ({summary})")
    table = Table(show_lines=False)
    for col in ("Type", "Package", "Version", "Source", "Location"):
        table.add_column(col, overflow="fold")
    for p in sbom.packages:
        name = f"{p.namespace}/{p.name}" if p.namespace and p.type not in ("deb", "apk", "rpm") else p.name
        source = f"{p.source_name} {p.source_version}".strip() if p.source_name else ""
        where = p.locations[0].path if p.locations else ""
        table.add_row(p.type, name, p.full_version, source, where)
    console.print(table)
    if sbom.skipped:
        console.print(f"[yellow]{len(sbom.skipped)} file(s) not inventoried[/yellow] (see -f json, 'skipped')")
