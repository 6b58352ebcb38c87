"""Events: what changed for which image (health changes, re-assessment diffs, failed scans)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .paging import Page, clamp, decode_int_cursor, page
from .tables import EventRow

HEALTH_CHANGED = "health-changed"
REASSESSED = "reassessed"
SCAN_FAILED = "scan-failed"


def add_event(session: Session, kind: str, message: str, image_id: int | None = None,
              data: dict[str, Any] | None = None) -> EventRow:
    """Record an event."""
    row = EventRow(kind=kind, message=message, image_id=image_id, data=data or {})
    session.add(row)
    session.flush()
    return row


def list_events(session: Session, image_id: int | None = None, kind: str = "", cursor: str = "",
                limit: int = 100) -> Page[EventRow]:
    """A page of events, oldest first."""
    limit = clamp(limit)
    query = select(EventRow)
    if image_id is not None:
        query = query.where(EventRow.image_id == image_id)
    if kind:
        query = query.where(EventRow.kind == kind)
    if cursor:
        query = query.where(EventRow.id > decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(EventRow.id).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)
