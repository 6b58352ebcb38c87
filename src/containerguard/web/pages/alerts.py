"""Alerts: the live list (the page polls ``/alerts/feed`` for alerts raised after the newest it shows),
the detail of one alert with its rule and every event field, and acknowledge / dismiss.

Changing an alert's status is a write, as in the API (and in Defender, where dismissing needs a
Security Admin): admin tokens only. Readers see the status and a note why the buttons are missing.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from containerguard.api.deps import Ctx
from containerguard.errors import ConfigError
from containerguard.store.alerts import SEVERITIES, STATUSES, get_alert, set_status

from ..queries.alerts import (
    FEED_LIMIT,
    AlertQuery,
    alert_page,
    alerts_after,
    feed_item,
    field_value,
    host_id_of,
    resource_label,
    tactics,
)
from ..render import SECURITY_HEADERS, render
from ..session import LoginRequired, Viewer, WebAdmin, WebViewer, check_csrf, current_viewer

router = APIRouter()
PAGE = 50
POLL_SECONDS = 5
"""How often the list asks the feed for new alerts."""
_TECHNIQUE = re.compile(r"^T(\d{4})(?:\.(\d{3}))?$")
MAX_FILTER = 300


def feed_viewer(request: Request, ctx: Ctx) -> Viewer:
    """The session's viewer; a JSON 401 (not the pages' redirect to the login form) when there is none,
    so the polling script can tell the person to sign in again."""
    try:
        return current_viewer(request, ctx)
    except LoginRequired as exc:
        raise HTTPException(401, "the session ended: sign in again") from exc


FeedViewer = Annotated[Viewer, Depends(feed_viewer)]


def _problem(request: Request, viewer: Viewer, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", viewer, status=status, title=title, message=message)


def _query(severity: str, status: str, tactic: str, rule: str) -> AlertQuery:
    return AlertQuery(severity.strip().lower(), status.strip().lower(), tactic.strip()[:MAX_FILTER],
                      rule.strip()[:MAX_FILTER])


def technique_url(technique: str) -> str:
    """The ATT&CK page of a technique id (``T1059.004``), "" for anything else."""
    found = _TECHNIQUE.match(technique)
    if found is None:
        return ""
    main, sub = found.groups()
    return f"https://attack.mitre.org/techniques/T{main}/" + (f"{sub}/" if sub else "")


@router.get("/alerts")
def alerts(request: Request, viewer: WebViewer, ctx: Ctx, severity: str = "", status: str = "", tactic: str = "",
           rule: str = "", cursor: str = "") -> Response:
    """Alerts, newest first, filtered; the first page keeps itself up to date."""
    q = _query(severity, status, tactic, rule)
    with ctx.store.session() as s:
        try:
            found = alert_page(s, q, cursor, PAGE)
        except ConfigError as exc:
            return _problem(request, viewer, 400, "Bad filter", str(exc))
        known_tactics = tactics(s)
    # Live updates on the first page only: later pages are history.
    after = (found.items[0].id if found.items else 0) if not cursor else None
    return render(request, "alerts.html", viewer, title="Alerts", alerts=found, q=q, params=q.params(),
                  cursor=cursor, severities=SEVERITIES, statuses=STATUSES, tactics=known_tactics, after=after,
                  poll_seconds=POLL_SECONDS, resource_label=resource_label)


@router.get("/alerts/feed")
def feed(viewer: FeedViewer, ctx: Ctx, after: int = 0, severity: str = "", status: str = "", tactic: str = "",
         rule: str = "") -> Response:
    """Alerts matching the list's filters raised after alert ``after``, oldest first, as JSON:
    ``{"items": [...], "after": <newest id>, "more": <true when more are waiting>}``."""
    q = _query(severity, status, tactic, rule)
    with ctx.store.session() as s:
        try:
            rows = alerts_after(s, q, max(0, after), FEED_LIMIT + 1)
        except ConfigError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400, headers=SECURITY_HEADERS)
        items = [feed_item(r) for r in rows[:FEED_LIMIT]]
    newest = items[-1]["id"] if items else max(0, after)
    return JSONResponse({"items": items, "after": newest, "more": len(rows) > FEED_LIMIT}, headers=SECURITY_HEADERS)


@router.get("/alerts/{alert_id:int}")
def alert(request: Request, viewer: WebViewer, ctx: Ctx, alert_id: int) -> Response:
    """One alert: rule, severity, tactic and techniques, resource, counts and times, the output, and
    every field of the event that raised it."""
    with ctx.store.session() as s:
        row = get_alert(s, alert_id)
        if row is None:
            return _problem(request, viewer, 404, "No such alert", "The alert does not exist.")
        host_id = host_id_of(s, row.hostname)
    fields = sorted((str(k), field_value(v)) for k, v in (row.output_fields or {}).items())
    info = sorted((str(k), field_value(v)) for k, v in (row.resource_info or {}).items() if v not in ("", None))
    techniques = [(t, technique_url(t)) for t in row.techniques or []]
    return render(request, "alerts_detail.html", viewer, title=f"Alert: {row.rule}", a=row, fields=fields,
                  info=info, techniques=techniques, host_id=host_id)


@router.post("/alerts/{alert_id:int}/status")
def change_status(request: Request, viewer: WebAdmin, ctx: Ctx, alert_id: int,
                  csrf: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "") -> Response:
    """Acknowledge (``acknowledged``), dismiss (``dismissed``) or reopen (``new``) an alert."""
    check_csrf(viewer, csrf)
    if status not in STATUSES:
        return _problem(request, viewer, 400, "Bad status", f"status must be one of {', '.join(STATUSES)}")
    with ctx.store.session() as s:
        row = set_status(s, alert_id, status)
    if row is None:
        return _problem(request, viewer, 404, "No such alert", "The alert does not exist.")
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303, headers=SECURITY_HEADERS)
