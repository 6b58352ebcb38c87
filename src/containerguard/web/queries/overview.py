"""The overview's numbers, each one grouped query: resources by health (images, Docker hosts,
workloads), open vulnerabilities by severity (the image rows' per-severity counts, never the findings),
and the alerts of the last 24 hours by severity and MITRE ATT&CK tactic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from containerguard.store.alerts import SEVERITIES as ALERT_SEVERITIES
from containerguard.store.tables import AlertRow, ClusterRow, ClusterWorkloadRow, HostRow, ImageRow, RegistryRow

from .images import LEVELS

DISMISSED = "dismissed"


@dataclass(frozen=True)
class HealthCounts:
    """Resources of one type by health."""

    healthy: int = 0
    unhealthy: int = 0
    not_applicable: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        """Every resource of the type."""
        return self.healthy + self.unhealthy + self.not_applicable + self.pending

    @property
    def assessed(self) -> int:
        """Resources with a verdict (Healthy or Unhealthy): what the secure score counts."""
        return self.healthy + self.unhealthy

    @classmethod
    def of(cls, counts: dict[str, int]) -> HealthCounts:
        """From ``{health: count}``; anything not Healthy, Unhealthy or NotApplicable is pending."""
        known = ("Healthy", "Unhealthy", "NotApplicable")
        return cls(counts.get("Healthy", 0), counts.get("Unhealthy", 0), counts.get("NotApplicable", 0),
                   sum(n for h, n in counts.items() if h not in known))


@dataclass(frozen=True)
class Posture:
    """The estate now: resources by health, open findings by severity, and what is registered."""

    images: HealthCounts
    hosts: HealthCounts
    workloads: HealthCounts
    open_by_level: dict[str, int]
    registries: int
    clusters: int

    @property
    def healthy(self) -> int:
        """Healthy images, hosts and workloads."""
        return self.images.healthy + self.hosts.healthy + self.workloads.healthy

    @property
    def unhealthy(self) -> int:
        """Unhealthy images, hosts and workloads."""
        return self.images.unhealthy + self.hosts.unhealthy + self.workloads.unhealthy

    @property
    def score(self) -> float | None:
        """The secure score: the percentage of healthy resources among those with a verdict (None
        when nothing has one yet)."""
        assessed = self.healthy + self.unhealthy
        return 100.0 * self.healthy / assessed if assessed else None

    @property
    def open_findings(self) -> int:
        """Open findings of every severity."""
        return sum(self.open_by_level.values())

    @property
    def empty(self) -> bool:
        """Nothing registered or stored yet: the overview shows the first steps instead."""
        return not (self.images.total or self.hosts.total or self.clusters or self.registries)


@dataclass(frozen=True)
class AlertSummary:
    """Alerts active in a window (last seen in it, not dismissed) by severity and by tactic."""

    since: datetime
    by_severity: dict[str, int]
    by_tactic: list[tuple[str, int]] = field(default_factory=list)
    """(tactic, count), most alerts first; "" is alerts whose rule names no tactic."""

    @property
    def total(self) -> int:
        """Every alert in the window."""
        return sum(self.by_severity.values())


def _by_health(session: Session, column: Any) -> HealthCounts:
    rows = session.execute(select(column, func.count()).group_by(column)).all()
    return HealthCounts.of({str(h): int(n) for h, n in rows})


def posture(session: Session) -> Posture:
    """The estate's posture now (a handful of grouped queries)."""
    sums = session.execute(select(ImageRow.health, func.count(),
                                  *(func.coalesce(func.sum(getattr(ImageRow, level)), 0) for level in LEVELS))
                           .group_by(ImageRow.health)).all()
    images = HealthCounts.of({str(r[0]): int(r[1]) for r in sums})
    open_by_level = {level: sum(int(r[2 + i]) for r in sums) for i, level in enumerate(LEVELS)}
    return Posture(images=images, hosts=_by_health(session, HostRow.health),
                   workloads=_by_health(session, ClusterWorkloadRow.health), open_by_level=open_by_level,
                   registries=session.scalar(select(func.count()).select_from(RegistryRow)) or 0,
                   clusters=session.scalar(select(func.count()).select_from(ClusterRow)) or 0)


def recent_alerts(session: Session, now: datetime, hours: int = 24) -> AlertSummary:
    """Alerts last seen within ``hours`` of ``now`` and not dismissed, by severity and tactic."""
    since = now - timedelta(hours=hours)
    window = (AlertRow.last_seen >= since, AlertRow.status != DISMISSED)
    by_severity = dict.fromkeys(ALERT_SEVERITIES, 0)
    for severity, count in session.execute(select(AlertRow.severity, func.count()).where(*window)
                                           .group_by(AlertRow.severity)).all():
        by_severity[str(severity)] = by_severity.get(str(severity), 0) + int(count)
    tactics = session.execute(select(AlertRow.tactic, func.count()).where(*window).group_by(AlertRow.tactic)).all()
    by_tactic = sorted(((str(t or ""), int(n)) for t, n in tactics), key=lambda item: (-item[1], item[0]))
    return AlertSummary(since, by_severity, by_tactic)
