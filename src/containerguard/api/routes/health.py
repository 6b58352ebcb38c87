"""Health (no token), Prometheus metrics, events, and the manual re-assessment trigger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from containerguard import __version__
from containerguard.jobs.reassess import vulndb_fingerprint
from containerguard.store.events import list_events

from ..deps import Admin, Ctx, Db, Jobs, Reader
from ..shapes import event_doc

router = APIRouter()


@router.get("/api/v1/health", tags=["health"])
def get_health(ctx: Ctx) -> dict[str, Any]:
    """Liveness and what the server runs on; no token needed."""
    database = "ok"
    try:
        with ctx.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # report, never fail the health answer itself
        database = f"error: {type(exc).__name__}"
    return {"status": "ok" if database == "ok" else "degraded", "version": __version__, "database": database,
            "store": ctx.store.engine.dialect.name,
            "vulnerability_db": "present" if vulndb_fingerprint(ctx.config.settings) else "missing"}


@router.get("/metrics", tags=["health"], response_class=Response)
def metrics(ctx: Ctx, _: Reader) -> Response:
    """Prometheus text format: scans by status, queue depth, scan durations."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/api/v1/reassess", tags=["assessments"])
def reassess(jobs: Jobs, _: Admin) -> dict[str, Any]:
    """Re-match every stored SBOM against the vulnerability database now (no pulls)."""
    report = jobs.reassess()
    return {"images": report.images, "changed": report.changed, "new_findings": report.opened,
            "closed_findings": report.closed, "health_changes": report.health_changes, "errors": report.errors}


@router.get("/api/v1/events", tags=["events"])
def events(db: Db, _: Reader, kind: str = "", image_id: int | None = None, cursor: str = "",
           limit: int = 100) -> dict[str, Any]:
    """Events, oldest first: health changes, re-assessment diffs, failed scan attempts."""
    found = list_events(db, image_id=image_id, kind=kind, cursor=cursor, limit=limit)
    return {"items": [event_doc(e) for e in found.items], "next": found.next or None}
