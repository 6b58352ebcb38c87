"""Runtime alerts: recorded with deduplication (the same rule on the same resource within a window counts
up instead of adding a row), listed with filters and a cursor, acknowledged or dismissed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError

from .paging import Page, clamp, decode_int_cursor, page
from .tables import AlertRow, utcnow

STATUSES = ("new", "acknowledged", "dismissed")
SEVERITIES = ("high", "medium", "low", "informational")
PRIORITY_RANKS = {p: i for i, p in enumerate(
    ("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"))}


def severity_of(priority: str) -> str:
    """Falco priority -> the center's alert severity (Defender's High/Medium/Low/Informational)."""
    rank = PRIORITY_RANKS.get(priority, 7)
    if rank <= 3:
        return "high"
    if rank == 4:
        return "medium"
    if rank == 5:
        return "low"
    return "informational"


@dataclass(frozen=True)
class Resource:
    """What an alert is about: a container, a Kubernetes object, or a host."""

    type: str
    key: str
    name: str = ""
    image: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) and value not in ("", "<NA>") else ""


def resource_of(fields: dict[str, Any], hostname: str = "") -> Resource:
    """The resource an alert's ``output_fields`` name: a container id, else a k8s object, else the host."""
    cid = _text(fields, "container.id")
    if cid and cid != "host":
        name, image = _text(fields, "container.name"), _text(fields, "container.image")
        info = {"container_id": cid, "container_name": name, "image": image}
        ns, pod = _text(fields, "k8s.ns.name"), _text(fields, "k8s.pod.name")
        if ns or pod:
            info |= {"namespace": ns, "pod": pod}
        return Resource("container", f"container:{cid[:12]}", name, image, info)
    kind = _text(fields, "ka.target.resource")
    if kind:
        ns, name = _text(fields, "ka.target.namespace"), _text(fields, "ka.target.name")
        sub = _text(fields, "ka.target.subresource")
        info = {"namespace": ns, "resource": kind, "name": name, "subresource": sub,
                "user": _text(fields, "ka.user.name")}
        image = _text(fields, "ka.req.pod.containers.image") or _text(fields, "ka.req.container.image")
        return Resource("k8s", f"k8s:{ns or '-'}/{kind}/{name or '-'}", name, image, info)
    host = hostname or "unknown"
    return Resource("host", f"host:{host}", host, "", {"hostname": host})


def fingerprint(rule: str, resource_key: str) -> str:
    """The dedup key of (rule, resource)."""
    return hashlib.sha256(f"{rule}\0{resource_key}".encode()).hexdigest()


@dataclass(frozen=True)
class AlertIn:
    """One alert to record (what the engine or an agent produced)."""

    rule: str
    priority: str
    output: str
    time: datetime
    source: str = ""
    tactic: str = ""
    techniques: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    output_fields: dict[str, Any] = field(default_factory=dict)
    hostname: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    """Fields of the event the output does not show but that name the resource (``ka.target.*`` …)."""


def record_alert(session: Session, alert: AlertIn, window: timedelta) -> tuple[AlertRow, bool]:
    """Record ``alert``: a new row, or the row of the same rule + resource last seen within ``window``
    counted up. Returns (row, created)."""
    res = resource_of({**alert.context, **alert.output_fields}, alert.hostname)
    key = fingerprint(alert.rule, res.key)
    recent = session.scalars(
        select(AlertRow).where(AlertRow.fingerprint == key, AlertRow.last_seen >= alert.time - window)
        .order_by(AlertRow.last_seen.desc()).limit(1)).first()
    now = utcnow()
    if recent is not None:
        recent.count += 1
        if alert.time > recent.last_seen:
            recent.last_seen = alert.time
            recent.output = alert.output
            recent.output_fields = alert.output_fields
        recent.updated_at = now
        session.flush()
        return recent, False
    row = AlertRow(
        fingerprint=key, rule=alert.rule, priority=alert.priority,
        priority_rank=PRIORITY_RANKS.get(alert.priority, 7), severity=severity_of(alert.priority),
        tactic=alert.tactic, techniques=list(alert.techniques), tags=list(alert.tags), source=alert.source,
        resource_type=res.type, resource=res.key, resource_name=res.name, image=res.image, resource_info=res.info,
        hostname=alert.hostname, output=alert.output, output_fields=alert.output_fields,
        first_seen=alert.time, last_seen=alert.time, count=1, status="new", updated_at=now)
    session.add(row)
    session.flush()
    return row, True


@dataclass(frozen=True)
class AlertFilter:
    """Filters of the alert list; empty values do not filter."""

    severity: tuple[str, ...] = ()
    min_priority: str = ""
    tactic: str = ""
    resource: str = ""
    rule: str = ""
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None


def list_alerts(session: Session, flt: AlertFilter, cursor: str = "", limit: int = 100) -> Page[AlertRow]:
    """A page of alerts, most recently raised first (by id, so the cursor is stable while alerts arrive)."""
    limit = clamp(limit)
    query = select(AlertRow)
    if flt.severity:
        unknown = [s for s in flt.severity if s not in SEVERITIES]
        if unknown:
            raise ConfigError(f"unknown severity {unknown[0]!r} (known: {', '.join(SEVERITIES)})")
        query = query.where(AlertRow.severity.in_(flt.severity))
    if flt.min_priority:
        rank = {p.lower(): r for p, r in PRIORITY_RANKS.items()} | {"info": 6}
        floor = rank.get(flt.min_priority.strip().lower())
        if floor is None:
            raise ConfigError(f"unknown priority {flt.min_priority!r}")
        query = query.where(AlertRow.priority_rank <= floor)
    if flt.tactic:
        query = query.where(AlertRow.tactic == flt.tactic)
    if flt.resource:
        r = flt.resource
        query = query.where((AlertRow.resource == r) | (AlertRow.resource_name == r) | (AlertRow.image == r)
                            | (AlertRow.resource == f"container:{r[:12]}"))
    if flt.rule:
        query = query.where(AlertRow.rule == flt.rule)
    if flt.status:
        if flt.status not in STATUSES:
            raise ConfigError(f"unknown status {flt.status!r} (known: {', '.join(STATUSES)})")
        query = query.where(AlertRow.status == flt.status)
    if flt.since is not None:
        query = query.where(AlertRow.last_seen >= flt.since)
    if flt.until is not None:
        query = query.where(AlertRow.first_seen <= flt.until)
    if cursor:
        query = query.where(AlertRow.id < decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(AlertRow.id.desc()).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def get_alert(session: Session, alert_id: int) -> AlertRow | None:
    """One alert by id."""
    return session.get(AlertRow, alert_id)


def set_status(session: Session, alert_id: int, status: str) -> AlertRow | None:
    """Acknowledge or dismiss an alert (None when there is no such alert)."""
    if status not in STATUSES:
        raise ConfigError(f"unknown status {status!r}")
    row = session.get(AlertRow, alert_id)
    if row is not None:
        row.status = status
        row.updated_at = utcnow()
        session.flush()
    return row


def alert_doc(row: AlertRow) -> dict[str, Any]:
    """An alert as the API returns it."""
    return {
        "id": row.id, "rule": row.rule, "priority": row.priority, "severity": row.severity,
        "tactic": row.tactic or None, "techniques": row.techniques, "tags": row.tags, "source": row.source,
        "resource": {"type": row.resource_type, "key": row.resource, "name": row.resource_name,
                     "image": row.image, **row.resource_info},
        "hostname": row.hostname, "output": row.output, "output_fields": row.output_fields,
        "first_seen": row.first_seen.isoformat(), "last_seen": row.last_seen.isoformat(), "count": row.count,
        "status": row.status,
    }
