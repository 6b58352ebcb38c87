"""Template rendering: one Jinja2 environment, autoescaped everywhere (image and event data are
attacker-controlled), with the filters the pages share."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from containerguard import __version__

from .session import Viewer

SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
NAV = (("/", "Overview"), ("/containers", "Containers"), ("/recommendations", "Recommendations"),
       ("/images", "Images"), ("/alerts", "Alerts"), ("/registries", "Registries"), ("/tokens", "Tokens"))
"""The tabs, in order: (path, label)."""


def ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """``3 min ago`` style age of a timestamp ("never" for None)."""
    if value is None or value == "":
        return "never"
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def stamp(value: datetime | str | None) -> str:
    """``2026-11-28 19:23 UTC`` (empty for None)."""
    if value is None or value == "":
        return ""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def short_digest(digest: str) -> str:
    """``sha256:abcdef123456`` (the first 12 hex digits)."""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest[:19]


def query_string(params: dict[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from ``params`` updated with ``changes`` (None or "" drops a key)."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


@cache
def environment() -> Environment:
    """The shared environment (built once)."""
    env = Environment(loader=PackageLoader("containerguard.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(ago=ago, stamp=stamp, short_digest=short_digest)
    env.globals.update(NAV=NAV, SEVERITIES=SEVERITIES, version=__version__, query_string=query_string)
    return env


def render(request: Request, template: str, viewer: Viewer | None, status: int = 200,
           **values: Any) -> HTMLResponse:
    """``template`` rendered with ``values``, the viewer (for the CSRF field and admin links) and the
    current path (for the active tab)."""
    html = environment().get_template(template).render(
        request=request, viewer=viewer, path=request.url.path, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Sent with every page: no inline script or style, no framing, nothing cached."""
