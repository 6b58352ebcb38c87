"""Assess an SBOM and record the outcome on its image: findings, counts, health, events, notifications.

Shared by scans and re-assessments. Health: ``Unhealthy`` when findings remain after the (default,
empty) policy; ``NotApplicable`` when nothing in the image could be assessed (no packages, or no
package in an ecosystem the database covers, e.g. an unsupported OS); else ``Healthy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from containerguard.models.finding import Finding
from containerguard.models.report import ScanNote
from containerguard.models.sbom import Sbom
from containerguard.pipeline.policy import HEALTHY, NOT_APPLICABLE, UNHEALTHY, Policy, apply_policy, severity_counts
from containerguard.pipeline.scan import MatchStats, match_sbom
from containerguard.store.events import HEALTH_CHANGED, REASSESSED, add_event
from containerguard.store.findings import FindingDiff, sync_findings
from containerguard.store.images import set_counts
from containerguard.store.images import severity_counts as image_counts
from containerguard.store.tables import FindingRow, ImageRow, utcnow
from containerguard.vulndb.base import VulnStore

ALERT_LEVELS = frozenset({"CRITICAL", "HIGH"})


@dataclass(frozen=True)
class Assessment:
    """The outcome of matching one SBOM."""

    health: str
    findings: tuple[Finding, ...]
    notes: tuple[ScanNote, ...]
    db: str


@dataclass
class Recorded:
    """What recording an assessment changed, and the notifications it calls for (sent after commit)."""

    old_health: str
    new_health: str
    diff: FindingDiff
    notifications: list[dict[str, Any]] = field(default_factory=list)


def assess(sbom: Sbom, vulns: VulnStore, policy: Policy | None = None) -> Assessment:
    """Match ``sbom`` and judge its health."""
    stats = MatchStats()
    result = apply_policy(match_sbom(sbom, vulns, stats=stats), policy or Policy())
    health = result.health
    if health == HEALTHY and stats.matched == 0:
        health = NOT_APPLICABLE
    return Assessment(health, result.findings, result.notes, result.db_summary)


def image_label(image: ImageRow) -> str:
    """``registry/repository@digest``."""
    return f"{image.registry_host}/{image.repository}@{image.digest}"


def _brief(row: FindingRow) -> dict[str, Any]:
    return {"id": row.vuln_id, "severity": row.severity, "package": row.package_name,
            "installed_version": row.installed_version, "fixed_version": row.fixed_version}


def record(session: Session, image: ImageRow, assessment: Assessment, reason: str) -> Recorded:
    """Store ``assessment`` on ``image``; ``reason`` is ``scan`` or ``reassess``."""
    old = image.health
    diff = sync_findings(session, image, assessment.findings)
    set_counts(image, severity_counts(assessment.findings))
    image.health = assessment.health
    image.notes = [{"subject": n.subject, "reason": n.reason} for n in assessment.notes]
    image.assessed_at = utcnow()
    out = Recorded(old, assessment.health, diff)
    label = image_label(image)
    if old != assessment.health:
        add_event(session, HEALTH_CHANGED, f"{label}: {old} -> {assessment.health} ({reason})", image.id,
                  {"from": old, "to": assessment.health, "reason": reason})
        if assessment.health == UNHEALTHY:
            out.notifications.append({"event": "image.unhealthy", "image": label, "tags": list(image.tags),
                                      "reason": reason, "from": old, "severity_counts": image_counts(image),
                                      "findings": [_brief(r) for r in diff.opened[:50]]})
    if reason == "reassess" and diff.changed:
        add_event(session, REASSESSED, f"{label}: {len(diff.opened)} new, {len(diff.closed)} closed finding(s)",
                  image.id, {"new": [_brief(r) for r in diff.opened], "closed": [_brief(r) for r in diff.closed],
                             "db": assessment.db})
        alarming = [r for r in diff.opened if r.severity in ALERT_LEVELS]
        if alarming and not any(n["event"] == "image.unhealthy" for n in out.notifications):
            out.notifications.append({"event": "image.new-critical-high", "image": label, "tags": list(image.tags),
                                      "findings": [_brief(r) for r in alarming]})
    return out

