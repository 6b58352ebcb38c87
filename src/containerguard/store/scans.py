"""Scans: the durable job queue. A worker claims a queued scan with a conditional UPDATE (safe on
SQLite and PostgreSQL alike), so two workers or two processes never run the same scan."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError

from .paging import Page, clamp, decode_cursor, page
from .tables import ScanRow, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)
ACTIVE = (QUEUED, RUNNING)


def new_scan(session: Session, ref: str, *, registry_host: str = "", repository: str = "", digest: str = "",
             tags: Sequence[str] = (), trigger: str = "manual", registry_id: int | None = None) -> ScanRow:
    """Queue a scan of ``ref``."""
    now = utcnow()
    row = ScanRow(id=uuid.uuid4().hex, ref=ref, registry_host=registry_host, repository=repository, digest=digest,
                  tags=sorted(set(tags)), trigger=trigger, registry_id=registry_id, status=QUEUED, attempts=0,
                  error="", not_before=now, queued_at=now, images=[])
    session.add(row)
    session.flush()
    return row


def active_scan(session: Session, registry_host: str, repository: str, digest: str) -> ScanRow | None:
    """A queued or running scan of exactly this target."""
    return session.scalars(select(ScanRow).where(
        ScanRow.registry_host == registry_host, ScanRow.repository == repository, ScanRow.digest == digest,
        ScanRow.status.in_(ACTIVE)).order_by(ScanRow.queued_at)).first()


def claim_next(session: Session, now: datetime | None = None) -> ScanRow | None:
    """Mark the oldest due queued scan running and return it; None when nothing is due."""
    now = now or utcnow()
    candidates = session.scalars(select(ScanRow.id).where(ScanRow.status == QUEUED, ScanRow.not_before <= now)
                                 .order_by(ScanRow.not_before, ScanRow.queued_at).limit(5)).all()
    for scan_id in candidates:
        result = session.execute(update(ScanRow).where(ScanRow.id == scan_id, ScanRow.status == QUEUED)
                                 .values(status=RUNNING, started_at=now, attempts=ScanRow.attempts + 1)
                                 .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 1:
            session.commit()
            row = session.get(ScanRow, scan_id, populate_existing=True)
            return row
    session.commit()
    return None


def requeue_running(session: Session) -> int:
    """Scans left ``running`` by a process that died go back to the queue (on start)."""
    result = session.execute(update(ScanRow).where(ScanRow.status == RUNNING)
                             .values(status=QUEUED, not_before=utcnow())
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def finish(row: ScanRow, image_ids: Sequence[int]) -> None:
    """The scan succeeded."""
    now = utcnow()
    row.status, row.finished_at, row.error = DONE, now, ""
    row.images = list(image_ids)
    row.duration = (now - row.started_at).total_seconds() if row.started_at else None


def fail(row: ScanRow, error: str, retry_in: float | None) -> None:
    """An attempt failed: queue it again after ``retry_in`` seconds, or fail it for good (None)."""
    now = utcnow()
    row.error = f"attempt {row.attempts}: {error}"
    if retry_in is None:
        row.status, row.finished_at = FAILED, now
        row.duration = (now - row.started_at).total_seconds() if row.started_at else None
    else:
        row.status, row.not_before = QUEUED, now + timedelta(seconds=retry_in)


def get_scan(session: Session, scan_id: str) -> ScanRow | None:
    """One scan by id."""
    return session.get(ScanRow, scan_id)


def list_scans(session: Session, status: str = "", cursor: str = "", limit: int = 100,
               digest: str = "") -> Page[ScanRow]:
    """A page of scans, newest first."""
    limit = clamp(limit)
    query = select(ScanRow)
    if status:
        if status not in STATUSES:
            raise ConfigError(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
        query = query.where(ScanRow.status == status)
    if digest:
        query = query.where(ScanRow.digest == digest)
    if cursor:
        queued_at, _, scan_id = decode_cursor(cursor).partition("|")
        try:
            when = datetime.fromisoformat(queued_at)
        except ValueError as exc:
            raise ConfigError("invalid cursor") from exc
        query = query.where((ScanRow.queued_at < when) | ((ScanRow.queued_at == when) & (ScanRow.id < scan_id)))
    rows = list(session.scalars(query.order_by(ScanRow.queued_at.desc(), ScanRow.id.desc()).limit(limit + 1)))
    last = rows[limit - 1] if len(rows) > limit else None
    return page(rows, limit, f"{last.queued_at.isoformat()}|{last.id}" if last else None)


def counts_by_status(session: Session) -> dict[str, int]:
    """How many scans are in each status (every status present)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(select(ScanRow.status, func.count()).group_by(ScanRow.status)):
        counts[str(status)] = int(count)
    return counts
