"""``containerguard query 'KQL'``: the query language, on the local store or on a server.

Registered by cli/main.py as ``app.command("query")(query)``. Without ``--server`` it reads the store
of ``$CONTAINERGUARD_HOME`` (or ``CONTAINERGUARD_DATABASE_URL``); with it, ``POST /api/v1/query``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Annotated, Any

import typer

from containerguard.errors import ConfigError, ContainerGuardError
from containerguard.jsontext import dumps_indented

FORMATS = ("table", "json", "csv")
EXIT_ERROR = 2


def query(
    text: Annotated[str, typer.Argument(metavar="KQL", help="the query, e.g. 'securityresources | summarize "
                                                            "count() by tostring(properties.status.severity)'")],
    server: Annotated[str | None, typer.Option("--server", envvar="CONTAINERGUARD_SERVER",
                                               help="run on this server (http(s)://…) instead of the local store")
                      ] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="CONTAINERGUARD_TOKEN",
                                              help="a reader or admin token of --server")] = None,
    fmt: Annotated[str, typer.Option("-f", "--format", help="table | json | csv")] = "table",
    limit: Annotated[int | None, typer.Option("--limit", help="rows to return at most (default 1000, max 10000)")
                     ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds the query may run (local store)")] = 10.0,
) -> None:
    """Query the stored resources with KQL (tables: securityresources, resources)."""
    try:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
        result = _remote(server, token, text, limit) if server else _local(text, limit, timeout)
    except ContainerGuardError as exc:
        print(f"containerguard: error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_ERROR) from None
    sys.stdout.write(render(result, fmt))
    if result.get("truncated") and fmt == "table":
        print(f"(only the first {len(result['rows'])} rows: narrow the query or raise --limit)", file=sys.stderr)


def _local(text: str, limit: int | None, timeout: float) -> dict[str, Any]:
    from containerguard.config import load_settings
    from containerguard.query.runner import run_query
    from containerguard.store.db import Store

    store = Store.open(load_settings())
    try:
        return run_query(store.engine, text, limit, timeout=timeout).as_dict()
    finally:
        store.close()


def _remote(server: str, token: str | None, text: str, limit: int | None) -> dict[str, Any]:
    import httpx

    if not server.startswith(("http://", "https://")):
        raise ConfigError(f"--server must be an http(s):// URL, got {server!r}")
    if not token:
        raise ConfigError("--server needs --token (a reader or admin token)")
    body: dict[str, Any] = {"query": text} | ({"limit": limit} if limit is not None else {})
    try:
        response = httpx.post(f"{server.rstrip('/')}/api/v1/query", json=body, timeout=120.0,
                              headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach {server}: {exc}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200:
        detail = answer.get("detail") if isinstance(answer, dict) else None
        raise ConfigError(f"the server answered {response.status_code}: {detail or response.text[:200]}")
    if not isinstance(answer, dict) or "rows" not in answer:
        raise ConfigError("the server's answer is not a query result")
    return answer


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(result: dict[str, Any], fmt: str) -> str:
    """A query result as ``table``, ``json`` or ``csv`` text."""
    if fmt == "json":
        return dumps_indented(result, ensure_ascii=False)
    names = [c["name"] for c in result["columns"]]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in result["rows"]:
            writer.writerow([_cell(v) for v in row])
        return out.getvalue()
    from rich.console import Console
    from rich.table import Table

    table = Table(*names, show_lines=False)
    for row in result["rows"]:
        table.add_row(*(_cell(v) for v in row), )
    console = Console(file=io.StringIO(), width=200, record=True, highlight=False, markup=False)
    console.print(table)
    console.print(f"{len(result['rows'])} row(s)")
    return console.export_text()
