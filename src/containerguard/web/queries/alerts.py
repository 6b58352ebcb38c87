"""Alerts for the Alerts tab: the filtered list paged in SQL (newest first, by id like the API), the
rows that arrived after the newest one a page shows (the live feed), and the tactics to filter on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError
from containerguard.store.alerts import SEVERITIES, STATUSES
from containerguard.store.paging import Page, clamp, decode_int_cursor, page
from containerguard.store.tables import AlertRow, HostRow
from containerguard.web.render import ago, stamp

FEED_LIMIT = 100
"""At most this many new alerts per feed answer (the page says when there were more)."""
TACTIC_WINDOW = 10_000


@dataclass(frozen=True)
class AlertQuery:
    """The list's filters; empty values do not filter. ``rule`` matches part of the rule name, any case."""

    severity: str = ""
    status: str = ""
    tactic: str = ""
    rule: str = ""

    def check(self) -> None:
        """:class:`ConfigError` for a severity or status the store does not know."""
        if self.severity and self.severity not in SEVERITIES:
            raise ConfigError(f"unknown severity {self.severity!r} (known: {', '.join(SEVERITIES)})")
        if self.status and self.status not in STATUSES:
            raise ConfigError(f"unknown status {self.status!r} (known: {', '.join(STATUSES)})")

    def params(self) -> dict[str, str]:
        """The filters as query parameters (empty ones left out)."""
        return {k: v for k, v in (("severity", self.severity), ("status", self.status), ("tactic", self.tactic),
                                  ("rule", self.rule)) if v}


def _like(text: str) -> str:
    # The user's text is matched literally: LIKE's wildcards and the escape character are escaped.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(q: AlertQuery) -> Select[AlertRow]:
    q.check()
    query = select(AlertRow)
    if q.severity:
        query = query.where(AlertRow.severity == q.severity)
    if q.status:
        query = query.where(AlertRow.status == q.status)
    if q.tactic:
        query = query.where(AlertRow.tactic == q.tactic)
    if q.rule.strip():
        query = query.where(AlertRow.rule.ilike(_like(q.rule.strip()), escape="\\"))
    return query


def alert_page(session: Session, q: AlertQuery, cursor: str = "", limit: int = 50) -> Page[AlertRow]:
    """A page of alerts, most recently raised first."""
    limit = clamp(limit)
    query = _filtered(q)
    if cursor:
        query = query.where(AlertRow.id < decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(AlertRow.id.desc()).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def alerts_after(session: Session, q: AlertQuery, after: int, limit: int = FEED_LIMIT) -> list[AlertRow]:
    """Alerts matching ``q`` raised after alert ``after``, oldest first (at most ``limit``)."""
    query = _filtered(q).where(AlertRow.id > after).order_by(AlertRow.id).limit(clamp(limit))
    return list(session.scalars(query))


def tactics(session: Session, recent: int = TACTIC_WINDOW) -> list[str]:
    """The tactics the ``recent`` newest alerts carry (what the tactic filter offers). Bounded, so the
    filter costs the same with a million alerts stored."""
    latest = select(AlertRow.tactic).order_by(AlertRow.id.desc()).limit(recent).subquery()
    return sorted(t for t in session.scalars(select(latest.c.tactic).distinct()) if t)


def host_id_of(session: Session, hostname: str) -> int | None:
    """The registered host an alert's host name belongs to (by engine host name, else by name)."""
    if not hostname:
        return None
    found = session.scalars(select(HostRow.id).where((HostRow.hostname == hostname) | (HostRow.name == hostname))
                            .order_by(HostRow.id).limit(1)).first()
    return found


def resource_label(row: AlertRow) -> str:
    """What the alert is about, for a table cell: the container or object name, else its key."""
    return row.resource_name or row.resource


def feed_item(row: AlertRow) -> dict[str, Any]:
    """One alert as the live feed sends it: the cells of a list row, as plain text."""
    return {"id": row.id, "href": f"/alerts/{row.id}", "rule": row.rule, "severity": row.severity,
            "priority": row.priority, "tactic": row.tactic, "resource": resource_label(row), "image": row.image,
            "hostname": row.hostname, "count": row.count, "status": row.status,
            "last_seen": stamp(row.last_seen), "last_seen_ago": ago(row.last_seen),
            "last_seen_iso": row.last_seen.isoformat()}


def field_value(value: Any) -> str:
    """An event field's value as text (structured values as compact JSON)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
