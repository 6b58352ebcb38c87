"""``containerguard db``: import feeds, update from the internet, show what the database holds."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from containerguard.config import load_settings
from containerguard.errors import ConfigError, FeedError

if TYPE_CHECKING:  # the database modules are imported when a db command runs, not at CLI start-up
    from containerguard.vulndb.build import ImportReport
    from containerguard.vulndb.update import DownloadProgress

db_app = typer.Typer(no_args_is_help=True, help="The vulnerability database: import, update, status.")

QuietOpt = Annotated[bool, typer.Option("-q", "--quiet", help="no progress output")]


def _err() -> Console:
    return Console(stderr=True)


def _download_progress(quiet: bool) -> DownloadProgress:
    """A download progress callback printing one line per finished feed (no bars: works in CI logs)."""
    announced: list[str] = []

    def progress(url: str, done: int, total: int | None) -> None:
        if not quiet and total is not None and done >= total and url not in announced:
            announced.append(url)
            _err().print(f"fetched {url} ({done / 1e6:.1f} MB)", highlight=False)

    return progress


def _print_report(report: ImportReport) -> None:
    out = Console(highlight=False, soft_wrap=True)
    for s in report.sources:
        out.print(f"{s.source:<15} {s.location}")
        out.print(f"    records {s.records}: {s.added} added, {s.updated} updated, {s.unchanged} unchanged, "
                  f"{s.older} older ignored; malformed {s.malformed}")
        for reason in s.reasons:
            out.print(f"    malformed: {reason}")
        if s.malformed > len(s.reasons):
            out.print(f"    … and {s.malformed - len(s.reasons)} more malformed")
        if s.unknown_ecosystems:
            eco = ", ".join(f"{k} ({v})" for k, v in sorted(s.unknown_ecosystems.items()))
            out.print(f"    unknown ecosystems (kept, never matched): {eco}")
    if report.skipped:
        out.print(f"skipped {len(report.skipped)} file(s) in no known feed format, e.g. {report.skipped[0]}")
    rate = report.records / report.seconds if report.seconds else 0.0
    out.print(f"imported {report.records} records ({report.malformed} malformed) in {report.seconds:.1f}s "
              f"({rate:,.0f} records/s); the database at {report.db_path} serves {report.advisories} advisories")


@db_app.command("import")
def import_(
    sources: Annotated[list[str], typer.Argument(help="OSV zip/folder/JSON, Debian tracker JSON, Alpine secdb JSON, "
                                                      "or an http(s) URL of one")],
    quiet: QuietOpt = False,
) -> None:
    """Import feed files into the vulnerability database (one atomic swap for all of them)."""
    from containerguard.vulndb.build import FeedInput, import_feeds
    from containerguard.vulndb.store import db_path
    from containerguard.vulndb.update import download, is_url

    settings = load_settings()
    progress = _download_progress(quiet)
    inputs: list[FeedInput] = []
    for source in sources:
        if is_url(source):
            path = download(source, settings.home / "cache" / "feeds", progress)
            inputs.append(FeedInput(path, source))
        else:
            path = Path(source)
            if not path.exists():
                raise ConfigError(f"{source}: no such file or directory")
            inputs.append(FeedInput(path))
    _print_report(import_feeds(inputs, db_path(settings)))


@db_app.command("update")
def update_(quiet: QuietOpt = False) -> None:
    """Fetch the configured online feeds (CONTAINERGUARD_FEED_URLS, $CONTAINERGUARD_HOME/feeds.txt, or
    the built-in OSV.dev, Debian tracker and Alpine secdb list) and import them."""
    from containerguard.vulndb.update import FeedOffline, update

    progress = _download_progress(quiet)
    result = update(load_settings(), progress=progress)
    if result.report is not None:
        _print_report(result.report)
    if result.failures:
        for failure in result.failures:
            _err().print(f"warning: {failure}", highlight=False)
        first = result.failures[0]
        kind = "offline" if isinstance(first, FeedOffline) else "failed"
        raise FeedError(f"{len(result.failures)} feed(s) could not be fetched ({kind}: {first}); "
                        "the others were imported")


@db_app.command("status")
def status(
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json")] = "table",
) -> None:
    """Show the schema version, build time and per-source counts."""
    if fmt not in ("table", "json"):
        raise ConfigError(f"unknown format {fmt!r}: use table or json")
    from containerguard.vulndb.store import SqliteVulnStore

    with SqliteVulnStore.open(load_settings()) as store:
        info = store.status()
        ecosystems = sorted(store.ecosystems())
    if fmt == "json":
        doc = dataclasses.asdict(info) | {"ecosystems": ecosystems}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out = Console(highlight=False, soft_wrap=True, width=200)  # pipes and logs: no 80-column squeeze
    out.print(f"database   {info.path}")
    out.print(f"schema     {info.schema_version}")
    out.print(f"built      {info.built_at}")
    out.print(f"advisories {info.advisories}")
    out.print(f"ecosystems {', '.join(ecosystems)}")
    # fold, not ellipsis: locations are long paths and URLs that must stay readable in CI logs.
    table = Table(*(Column(h, overflow="fold") for h in ("source", "location", "records", "malformed",
                                                          "last modified", "imported at")))
    for s in info.sources:
        table.add_row(s.source, s.location, str(s.records), str(s.malformed), s.last_modified or "-", s.imported_at)
    out.print(table)
