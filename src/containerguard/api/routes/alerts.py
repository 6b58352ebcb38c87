"""Runtime alerts: agents post them, analysts list, acknowledge and dismiss them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from containerguard.errors import ConfigError
from containerguard.jobs.alerts import AlertRuntime, alert_from_json, runtime_for
from containerguard.store.alerts import AlertFilter, alert_doc, get_alert, list_alerts, set_status

from ..deps import Admin, Caller, Ctx, Db, Reader, require

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Agent = Annotated[Caller, Depends(require("agent"))]
MAX_ALERTS_PER_POST = 1000


def alert_runtime(request: Request, ctx: Ctx) -> AlertRuntime:
    """The application's alert pipeline."""
    return runtime_for(request.app.state, ctx.store, ctx.metrics)


Runtime = Annotated[AlertRuntime, Depends(alert_runtime)]


def _time(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{name} must be an ISO 8601 time") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@router.post("")
async def post_alerts(request: Request, runtime: Runtime, _: Agent) -> dict[str, Any]:
    """Record alerts in Falco's ``json_output`` shape: one object, a list, or ``{"alerts": [...]}``.
    Repeats of a rule on a resource within the dedup window count up the existing alert."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise HTTPException(400, "body is not JSON") from exc
    items = body.get("alerts") if isinstance(body, dict) and "alerts" in body else body
    items = items if isinstance(items, list) else [items]
    if len(items) > MAX_ALERTS_PER_POST:
        raise HTTPException(413, f"at most {MAX_ALERTS_PER_POST} alerts per request")
    parsed = [alert_from_json(item) for item in items]  # ConfigError -> 400
    recorded = await run_in_threadpool(runtime.ingest, parsed)
    return {"created": sum(1 for _, c in recorded if c), "deduplicated": sum(1 for _, c in recorded if not c),
            "ids": [doc["id"] for doc, _ in recorded]}


@router.get("")
def alerts(db: Db, _: Reader, severity: str = "", priority: str = "", tactic: str = "", resource: str = "",
           rule: str = "", status: str = "", since: str = "", until: str = "", cursor: str = "",
           limit: int = 100) -> dict[str, Any]:
    """Alerts, newest first. ``severity``: high, medium, low, informational (comma-separated);
    ``priority``: the lowest Falco priority to include; ``resource``: a container id/name, an image or a
    resource key; ``since``/``until``: ISO 8601 times."""
    flt = AlertFilter(severity=tuple(s.strip().lower() for s in severity.split(",") if s.strip()),
                      min_priority=priority, tactic=tactic, resource=resource, rule=rule, status=status,
                      since=_time(since, "since"), until=_time(until, "until"))
    found = list_alerts(db, flt, cursor=cursor, limit=limit)
    return {"items": [alert_doc(a) for a in found.items], "next": found.next or None}


@router.get("/{alert_id}")
def alert(alert_id: int, db: Db, _: Reader) -> dict[str, Any]:
    """One alert."""
    row = get_alert(db, alert_id)
    if row is None:
        raise HTTPException(404, "no such alert")
    return alert_doc(row)


def _set(db: Any, alert_id: int, status: str) -> dict[str, Any]:
    row = set_status(db, alert_id, status)
    if row is None:
        raise HTTPException(404, "no such alert")
    return alert_doc(row)


@router.post("/{alert_id}/acknowledge")
def acknowledge(alert_id: int, db: Db, _: Admin) -> dict[str, Any]:
    """Mark an alert as seen and being handled."""
    return _set(db, alert_id, "acknowledged")


@router.post("/{alert_id}/dismiss")
def dismiss(alert_id: int, db: Db, _: Admin) -> dict[str, Any]:
    """Dismiss an alert (a false positive or accepted activity); repeats keep counting on it."""
    return _set(db, alert_id, "dismissed")
