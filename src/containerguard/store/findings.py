"""Findings of an image (its sub-assessments): written from a match result, diffed on re-assessment.

A finding is identified within its image by a key over (vulnerability id, package type, name,
installed version, path). Syncing a new result opens findings not seen before, closes the open ones
no longer found (kept, with ``closed_at``) and refreshes the details of the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from containerguard.models.advisory import SEVERITY_LEVELS, Severity
from containerguard.models.finding import Finding
from containerguard.models.serde import package_to_dict

from .paging import Page, clamp, decode_int_cursor, page
from .tables import FindingRow, ImageRow, utcnow

OPEN = "open"
CLOSED = "closed"
_CVSS_PREFERENCE = ("cvss_v3", "cvss_v4", "cvss_v2")


@dataclass
class FindingDiff:
    """What a sync changed."""

    opened: list[FindingRow] = field(default_factory=list)
    closed: list[FindingRow] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything opened or closed."""
        return bool(self.opened or self.closed)


def finding_key(f: Finding) -> str:
    """Stable identity of a finding within one image."""
    path = f.package.locations[0].path if f.package.locations else ""
    text = "\x00".join((f.id, f.package.type, f.package.namespace, f.package.name, f.installed_version, path))
    return hashlib.sha256(text.encode()).hexdigest()


def cvss(f: Finding) -> Severity | None:
    """The CVSS statement to show: the policy severity when it is CVSS, else the best CVSS one known."""
    if f.severity.source.startswith("cvss") and f.severity.score is not None:
        return f.severity
    by_source = {s.source: s for s in f.severities if s.score is not None}
    for source in _CVSS_PREFERENCE:
        if source in by_source:
            return by_source[source]
    return None


def _fields(f: Finding) -> dict[str, Any]:
    score = cvss(f)
    return {
        "vuln_id": f.id, "aliases": list(f.aliases), "title": f.title, "description": f.description,
        "severity": f.severity.level if f.severity.level in SEVERITY_LEVELS else "UNKNOWN",
        "severity_source": f.severity.source,
        "cvss_score": score.score if score else None, "cvss_vector": score.vector if score else "",
        "severities": [{"level": s.level, "source": s.source, "score": s.score, "vector": s.vector}
                       for s in f.severities],
        "package_type": f.package.type, "package_name": f.package.name, "package": package_to_dict(f.package),
        "installed_version": f.installed_version, "fixed_version": f.fixed_version, "fix_state": f.fix_state,
        "category": f.category, "references": list(f.references), "published": f.published,
        "modified": f.modified,
        "evidence": [{"record": e.record, "ecosystem": e.ecosystem, "package": e.package, "version": e.version,
                      "version_field": e.version_field, "range": e.range} for e in f.evidence],
    }


def sync_findings(session: Session, image: ImageRow, findings: Sequence[Finding]) -> FindingDiff:
    """Make the image's open findings exactly ``findings``; returns what opened and closed."""
    now = utcnow()
    existing = {row.key: row for row in session.scalars(select(FindingRow).where(FindingRow.image_id == image.id))}
    wanted: dict[str, Finding] = {}
    for f in findings:
        wanted.setdefault(finding_key(f), f)
    diff = FindingDiff()
    for key, f in wanted.items():
        row = existing.get(key)
        if row is None:
            row = FindingRow(image_id=image.id, key=key, state=OPEN, first_seen=now, updated_at=now, **_fields(f))
            session.add(row)
            diff.opened.append(row)
            continue
        for name, value in _fields(f).items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        if row.state != OPEN:
            row.state, row.closed_at = OPEN, None
            diff.opened.append(row)
        row.updated_at = now
    for key, row in existing.items():
        if key not in wanted and row.state == OPEN:
            row.state, row.closed_at, row.updated_at = CLOSED, now, now
            diff.closed.append(row)
    session.flush()
    return diff


def list_findings(session: Session, image_id: int | None = None, state: str = OPEN, severity: str = "",
                  cursor: str = "", limit: int = 100) -> Page[FindingRow]:
    """A page of findings (of one image when ``image_id`` is given), most severe first within ids."""
    limit = clamp(limit)
    query = select(FindingRow)
    if image_id is not None:
        query = query.where(FindingRow.image_id == image_id)
    if state:
        query = query.where(FindingRow.state == state)
    if severity:
        query = query.where(FindingRow.severity.in_([s.strip().upper() for s in severity.split(",")]))
    if cursor:
        query = query.where(FindingRow.id > decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(FindingRow.id).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def get_finding(session: Session, finding_id: int) -> FindingRow | None:
    """One finding by id."""
    return session.get(FindingRow, finding_id)
