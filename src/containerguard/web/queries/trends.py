"""The overview's 30-day trends, kept in ``daily_stats``: one row per UTC day.

Counting the open findings of every one of 30 days from ``first_seen``/``closed_at`` is a scan of the
whole findings table (about a second at a million findings on SQLite), too slow for every page view.
So each day is counted once: today's row is rewritten from the overview's own live numbers when it is
more than :data:`STALE` old, and past days that have no row (the server was new, or nobody looked
that day) are reconstructed once, in one pass over the history:

- open findings per severity: findings first seen by the end of the day and not closed by then;
- unhealthy images: images with such a finding; healthy images: the other images created by then
  whose current health is a verdict (an approximation: image health has no other history);
- Docker hosts: the health of each host's last assessment of that day or before;
- workloads: no history is kept, so reconstructed days count none (rows say ``source=history``);
- alerts: alerts first seen that day.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from containerguard.store.tables import AlertRow, DailyStatsRow, FindingRow, HostSnapshotRow, ImageRow

from .images import LEVELS
from .overview import Posture

DAYS = 30
STALE = timedelta(minutes=10)
LIVE = "live"
HISTORY = "history"
VERDICTS = ("Healthy", "Unhealthy")


@dataclass(frozen=True)
class Day:
    """One day of the trends."""

    day: str
    healthy: int
    unhealthy: int
    images_unhealthy: int
    hosts_unhealthy: int
    workloads_unhealthy: int
    open_by_level: dict[str, int]
    alerts: int
    source: str

    @property
    def score(self) -> float | None:
        """The secure score that day (None when nothing had a verdict)."""
        assessed = self.healthy + self.unhealthy
        return 100.0 * self.healthy / assessed if assessed else None

    @property
    def open_findings(self) -> int:
        """Open findings of every severity."""
        return sum(self.open_by_level.values())


def day_of(column: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM-DD`` (UTC) of a timestamp column, in SQL."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _upsert(session: Session, rows: list[dict[str, Any]], replace: bool) -> None:
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    statement = insert(DailyStatsRow).values(rows)
    if replace:
        changing = {c: statement.excluded[c] for c in rows[0] if c != "day"}
        session.execute(statement.on_conflict_do_update(index_elements=["day"], set_=changing))
    else:  # a concurrent view may have reconstructed the same days: theirs are as good
        session.execute(statement.on_conflict_do_nothing(index_elements=["day"]))


def _alerts_per_day(session: Session, first: date, last: date) -> dict[str, int]:
    """Alerts first seen on each day of [first, last] (the last_seen index bounds the scan)."""
    start, end = _start(first), _start(last + timedelta(days=1))
    day = day_of(AlertRow.first_seen, _dialect(session))
    rows = session.execute(select(day, func.count()).where(AlertRow.last_seen >= start, AlertRow.first_seen >= start,
                                                            AlertRow.first_seen < end).group_by(day)).all()
    return {str(d): int(n) for d, n in rows}


def live_row(session: Session, posture: Posture, now: datetime) -> dict[str, Any]:
    """Today's row from the live posture."""
    today = now.astimezone(UTC).date()
    return {"day": today.isoformat(), "healthy": posture.healthy, "unhealthy": posture.unhealthy,
            "images_unhealthy": posture.images.unhealthy, "hosts_unhealthy": posture.hosts.unhealthy,
            "workloads_unhealthy": posture.workloads.unhealthy,
            **{level: posture.open_by_level.get(level, 0) for level in LEVELS},
            "alerts": _alerts_per_day(session, today, today).get(today.isoformat(), 0),
            "source": LIVE, "updated_at": now}


def reconstruct(session: Session, days: Iterable[date], now: datetime) -> list[dict[str, Any]]:
    """Rows for past ``days`` from the history the store keeps (see the module docstring)."""
    wanted = sorted(set(days))
    if not wanted:
        return []
    names = [d.isoformat() for d in wanted]
    dialect = _dialect(session)
    start, end = _start(wanted[0]), _start(wanted[-1] + timedelta(days=1))

    # One pass over the findings open at some time in the window, grouped to a few rows per image.
    opened, closed = day_of(FindingRow.first_seen, dialect), day_of(FindingRow.closed_at, dialect)
    spans = session.execute(
        select(FindingRow.image_id, FindingRow.severity, opened, closed, func.count())
        .where(FindingRow.first_seen < end, or_(FindingRow.closed_at.is_(None), FindingRow.closed_at >= start))
        .group_by(FindingRow.image_id, FindingRow.severity, opened, closed)).all()
    # Each group covers the days from its first-seen day up to (not including) its closing day: add
    # it at the start and take it away at the end (difference arrays), not once per day.
    level_delta = {level: [0] * (len(names) + 1) for level in LEVELS}
    per_image: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for image_id, severity, first, gone, count in spans:
        lo = bisect_left(names, str(first))
        hi = bisect_left(names, str(gone)) if gone is not None else len(names)
        if lo >= hi:
            continue
        level = str(severity).lower() if str(severity).lower() in LEVELS else "unknown"
        level_delta[level][lo] += int(count)
        level_delta[level][hi] -= int(count)
        per_image[int(image_id)].append((lo, hi))
    image_delta = [0] * (len(names) + 1)
    for intervals in per_image.values():
        for lo, hi in _union(intervals):
            image_delta[lo] += 1
            image_delta[hi] -= 1
    levels = {n: dict.fromkeys(LEVELS, 0) for n in names}
    for level, delta in level_delta.items():
        for i, value in enumerate(accumulate(delta[:-1])):
            levels[names[i]][level] = value
    images_unhealthy_on = dict(zip(names, accumulate(image_delta[:-1]), strict=True))

    created = day_of(ImageRow.created_at, dialect)
    per_day = session.execute(select(created, func.count()).where(ImageRow.health.in_(VERDICTS))
                              .group_by(created)).all()
    assessed_by = {n: sum(int(c) for d, c in per_day if str(d) <= n) for n in names}

    received = day_of(HostSnapshotRow.received_at, dialect)
    last_of_day = select(func.max(HostSnapshotRow.id)).where(HostSnapshotRow.received_at < end) \
        .group_by(HostSnapshotRow.host_id, received)
    snapshots = session.execute(select(HostSnapshotRow.host_id, received, HostSnapshotRow.health)
                                .where(HostSnapshotRow.id.in_(last_of_day))).all()
    host_days: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for host_id, d, health in snapshots:
        host_days[int(host_id)].append((str(d), str(health)))

    alerts = _alerts_per_day(session, wanted[0], wanted[-1])
    rows = []
    for n in names:
        hosts = [h for h in (_health_on(history, n) for history in host_days.values()) if h in VERDICTS]
        hosts_unhealthy = hosts.count("Unhealthy")
        images_unhealthy = images_unhealthy_on[n]
        images_healthy = max(0, assessed_by[n] - images_unhealthy)
        rows.append({"day": n, "healthy": images_healthy + len(hosts) - hosts_unhealthy,
                     "unhealthy": images_unhealthy + hosts_unhealthy, "images_unhealthy": images_unhealthy,
                     "hosts_unhealthy": hosts_unhealthy, "workloads_unhealthy": 0, **levels[n],
                     "alerts": alerts.get(n, 0), "source": HISTORY, "updated_at": now})
    return rows


def _union(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open intervals merged where they overlap or touch."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _health_on(history: list[tuple[str, str]], day: str) -> str:
    """The health of a host's last assessment on or before ``day`` ("" before its first)."""
    found = ""
    for d, health in sorted(history):
        if d > day:
            break
        found = health
    return found


def refresh(session: Session, posture: Posture, now: datetime, days: int = DAYS) -> dict[str, Any]:
    """Bring ``daily_stats`` up to date for the last ``days`` days: today's row from ``posture`` when
    missing or stale, and past days without a row reconstructed once. Returns today's live row (what
    the trend shows for today, so its last point matches the live numbers even between writes)."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    have = {str(d): u for d, u in session.execute(select(DailyStatsRow.day, DailyStatsRow.updated_at)
                                                  .where(DailyStatsRow.day >= first.isoformat()))}
    missing = [first + timedelta(days=i) for i in range(days - 1)
               if (first + timedelta(days=i)).isoformat() not in have]
    if missing:
        _upsert(session, reconstruct(session, missing, now), replace=False)
    live = live_row(session, posture, now)
    stamp = have.get(today.isoformat())
    if stamp is None or stamp < now - STALE:
        _upsert(session, [live], replace=True)
    return live


def trend(session: Session, now: datetime, days: int = DAYS, live: dict[str, Any] | None = None) -> list[Day]:
    """The last ``days`` days, oldest first (a day without a row counts nothing); ``live`` (from
    :func:`refresh`) stands for today's stored row."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    rows: dict[str, Any] = {r.day: r for r in session.scalars(select(DailyStatsRow)
                                                              .where(DailyStatsRow.day >= first.isoformat()))}
    if live is not None:
        rows[live["day"]] = DailyStatsRow(**live)
    out = []
    for i in range(days):
        name = (first + timedelta(days=i)).isoformat()
        r = rows.get(name)
        if r is None:
            out.append(Day(name, 0, 0, 0, 0, 0, dict.fromkeys(LEVELS, 0), 0, HISTORY))
            continue
        out.append(Day(name, r.healthy, r.unhealthy, r.images_unhealthy, r.hosts_unhealthy, r.workloads_unhealthy,
                       {level: int(getattr(r, level)) for level in LEVELS}, r.alerts, r.source))
    return out
