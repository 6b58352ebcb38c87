"""The ``containerguard`` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from containerguard import __version__
from containerguard.errors import ConfigError, ContainerGuardError, SbomError
from containerguard.models.artifact import Platform
from containerguard.models.sbom import Sbom
from containerguard.pipeline.inventory import InventoryRun, Progress
from containerguard.report.inventory_table import render_inventory
from containerguard.sbom.formats.base import get_format, read_document
from containerguard.sources.base import SourceOptions

from . import host, k8s, scanning
from .agent import agent
from .db import db_app
from .detect import detect
from .progress import RichInventoryProgress, wants_progress
from .query import query
from .server import server
from .token import token_app
from .watch import watch

app = typer.Typer(name="containerguard", no_args_is_help=True, add_completion=False,
                  help="containerguard: image inventory and container security.")
scan_app = typer.Typer(no_args_is_help=True, help="Scan an image, an SBOM, a Docker host or Kubernetes.")
app.add_typer(scan_app, name="scan")
scan_app.command("k8s")(k8s.scan_k8s)
scan_app.command("host")(host.scan_host)
app.command("detect")(detect)
app.command("query")(query)
app.command("watch")(watch)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.command("server")(server)
app.command("agent")(agent)

EXIT_ERROR = 2

PlatformOpt = Annotated[str | None, typer.Option(
    "--platform", help="os/arch or os/arch/variant of a multi-platform image")]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="allow http and unverified TLS for registries")]
UserOpt = Annotated[str, typer.Option("--username", envvar="CONTAINERGUARD_USERNAME", help="registry user")]
PassOpt = Annotated[str, typer.Option("--password", envvar="CONTAINERGUARD_PASSWORD", help="registry password")]
OutOpt = Annotated[Path | None, typer.Option("-o", "--output", help="write to FILE instead of stdout")]
QuietOpt = Annotated[bool, typer.Option("-q", "--quiet", help="no progress output")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="ignore the layer cache")]


def _options(platform: str | None, insecure: bool, username: str, password: str) -> SourceOptions:
    try:
        plat = Platform.parse(platform) if platform else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return SourceOptions(platform=plat, insecure=insecure, username=username, password=password)


def _inventory(ref: str, options: SourceOptions, quiet: bool, no_cache: bool) -> Sbom:
    if wants_progress(quiet):
        with RichInventoryProgress(Console(stderr=True)) as progress:
            return InventoryRun(options, progress, not no_cache).run(ref)
    return InventoryRun(options, Progress(), not no_cache).run(ref)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from exc


def _render(sbom: Sbom, fmt: str, output: Path | None) -> None:
    if fmt == "table":
        if output is None:
            render_inventory(sbom, Console())
        else:
            console = Console(record=True, width=160, file=open(output, "w"))  # noqa: SIM115
            render_inventory(sbom, console)
            console.file.close()
        return
    _emit(get_format(fmt).write(sbom), output)


@app.command()
def sbom(
    ref: Annotated[str, typer.Argument(help="image REF: registry ref, docker-archive:, oci:, dir:, docker:")],
    fmt: Annotated[str, typer.Option("-f", "--format", help="cyclonedx | spdx | json")] = "cyclonedx",
    output: OutOpt = None, platform: PlatformOpt = None, insecure: InsecureOpt = False,
    username: UserOpt = "", password: PassOpt = "", quiet: QuietOpt = False, no_cache: NoCacheOpt = False,
) -> None:
    """Write the SBOM of an image (CycloneDX 1.6 or SPDX 2.3 JSON)."""
    if fmt == "table":
        raise ConfigError("sbom writes documents: use -f cyclonedx, spdx or json (or 'scan image' for a table)")
    get_format(fmt)
    result = _inventory(ref, _options(platform, insecure, username, password), quiet, no_cache)
    _render(result, fmt, output)


SeverityOpt = Annotated[str, typer.Option(
    "--severity", help="comma list of severities to report: CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN")]
IgnoreUnfixedOpt = Annotated[bool, typer.Option("--ignore-unfixed", help="drop findings that have no fixed version")]
ExitCodeOpt = Annotated[int, typer.Option("--exit-code", help="exit with this code when findings remain after policy")]
IgnoreFileOpt = Annotated[Path | None, typer.Option(
    "--ignorefile",
    help="ignore file (default: .containerguardignore or .containerguardignore.yaml in the current directory)")]
VexOpt = Annotated[list[Path] | None, typer.Option("--vex", help="OpenVEX document (repeatable)")]
ScanFormatOpt = Annotated[str, typer.Option(
    "-f", "--format", help="table | json | cyclonedx | sarif (spdx: the SBOM only, SPDX has no vulnerabilities)")]


@scan_app.command("image")
def scan_image(
    ref: Annotated[str, typer.Argument(help="image REF: registry ref, docker-archive:, oci:, dir:, docker:")],
    fmt: ScanFormatOpt = "table",
    output: OutOpt = None, platform: PlatformOpt = None, insecure: InsecureOpt = False,
    username: UserOpt = "", password: PassOpt = "", quiet: QuietOpt = False, no_cache: NoCacheOpt = False,
    severity: SeverityOpt = scanning.ALL_SEVERITIES, ignore_unfixed: IgnoreUnfixedOpt = False,
    exit_code: ExitCodeOpt = 0, ignorefile: IgnoreFileOpt = None, vex: VexOpt = None,
) -> int:
    """Scan an image for known vulnerabilities in its OS and language packages."""
    options = _options(platform, insecure, username, password)
    if fmt == "spdx":
        _render(_inventory(ref, options, quiet, no_cache), fmt, output)
        return 0
    report = scanning.report_format(fmt)
    scanning.check_exit_code(exit_code)
    policy = scanning.load_policy(severity, ignore_unfixed, ignorefile, vex or [])
    result = scanning.scan(_inventory(ref, options, quiet, no_cache), policy)
    scanning.render(result, report, output)
    return scanning.gate(result, exit_code)


@scan_app.command("sbom")
def scan_sbom(
    path: Annotated[str, typer.Argument(help="a CycloneDX or SPDX JSON file ('-' for stdin)")],
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json | cyclonedx | sarif")] = "table",
    output: OutOpt = None,
    severity: SeverityOpt = scanning.ALL_SEVERITIES, ignore_unfixed: IgnoreUnfixedOpt = False,
    exit_code: ExitCodeOpt = 0, ignorefile: IgnoreFileOpt = None, vex: VexOpt = None,
) -> int:
    """Scan an existing CycloneDX or SPDX SBOM for known vulnerabilities."""
    report = scanning.report_format(fmt)
    scanning.check_exit_code(exit_code)
    policy = scanning.load_policy(severity, ignore_unfixed, ignorefile, vex or [])
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise SbomError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise SbomError(f"{path} is not an SBOM document (top level is not an object)")
    result = scanning.scan(read_document(document), policy)
    scanning.render(result, report, output)
    return scanning.gate(result, exit_code)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"containerguard {__version__}")


def main() -> None:
    """Run the CLI; errors become one line on stderr and exit code 2."""
    try:
        # Without standalone mode, click hands back what a command returns: scan's exit code.
        code = app(standalone_mode=False)
    except ContainerGuardError as exc:
        print(f"containerguard: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("containerguard: aborted", file=sys.stderr)
        sys.exit(130)
    except typer.BadParameter as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        # click usage errors (bad option, missing argument) carry their own message and exit code.
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()
            sys.exit(EXIT_ERROR)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)
