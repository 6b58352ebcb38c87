"""The result of a vulnerability scan, before and after policy."""

from __future__ import annotations

from dataclasses import dataclass

from containerguard.models.finding import Finding
from containerguard.models.sbom import Sbom


@dataclass(frozen=True)
class ScanNote:
    """Something the scan could not assess, and why (e.g. no advisory data for an ecosystem)."""

    subject: str
    reason: str


@dataclass(frozen=True)
class ScanResult:
    """Findings for one artifact. Detection fills ``findings``; policy may move some to ``suppressed``."""

    sbom: Sbom
    findings: tuple[Finding, ...]
    notes: tuple[ScanNote, ...] = ()
    db_summary: str = ""
    """One line naming the database used (schema, build time, sources)."""
    suppressed: tuple[Finding, ...] = ()
    """Findings removed by policy (ignore file, VEX, filters), each with ``suppressed_by`` set."""
    health: str = ""
    """``Healthy``, ``Unhealthy`` or ``NotApplicable``, set by policy."""
