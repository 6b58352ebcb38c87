"""Helpers the report formats share: ordering, scores, links, suppression kinds."""

from __future__ import annotations

from containerguard.models.advisory import SEVERITY_LEVELS, Severity
from containerguard.models.finding import Finding
from containerguard.models.sbom import Package
from containerguard.pipeline.suppression import parse_suppression
from containerguard.sbom.formats._shared import display_name

_RANK = {level: i for i, level in enumerate(SEVERITY_LEVELS)}
DEFAULT_SCORES = {"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 2.0, "NEGLIGIBLE": 0.1, "UNKNOWN": 0.0}
"""GitHub's ``security-severity`` when no CVSS score is known: Trivy's values (CRITICAL 9.5, HIGH 8.0,
MEDIUM 5.5, LOW 2.0, else 0.0); NEGLIGIBLE gets 0.1, the bottom of GitHub's "low" band."""


def rank(level: str) -> int:
    """Sort key of a severity level: most severe first, unknown levels last."""
    return _RANK.get(level, len(_RANK))


def package_label(p: Package) -> str:
    """The package name as users know it (``group:artifact``, ``@scope/name``, module path)."""
    return display_name(p)


def table_order(f: Finding) -> tuple[str, int, str, str]:
    """Package, then most severe first, then id — the order of the table's rows."""
    return (package_label(f.package), rank(f.severity.level), f.id, f.installed_version)


def cvss_score(f: Finding) -> float | None:
    """The finding's score: its policy severity's, else the highest CVSS score known, else None."""
    if f.severity.score is not None:
        return f.severity.score
    scores = [s.score for s in f.severities if s.score is not None and s.source.startswith("cvss")]
    return max(scores) if scores else None


def security_severity(f: Finding) -> float:
    """The number GitHub reads as ``security-severity``."""
    score = cvss_score(f)
    return score if score is not None else DEFAULT_SCORES.get(f.severity.level, 0.0)


def advisory_url(vuln_id: str) -> str:
    """A page about ``vuln_id``: NVD for CVEs, GitHub for GHSAs, OSV.dev otherwise."""
    upper = vuln_id.upper()
    if upper.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{upper}"
    if upper.startswith("GHSA-"):
        return f"https://github.com/advisories/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


def source_name(vuln_id: str) -> str:
    """Who assigns ids like ``vuln_id`` (the CycloneDX ``source.name``)."""
    upper = vuln_id.upper()
    if upper.startswith("CVE-"):
        return "NVD"
    if upper.startswith("GHSA-"):
        return "GitHub"
    return "OSV"


def recorded_suppressions(suppressed: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Suppressions decided in a file (ignore file, VEX), not by a command-line filter: the ones a
    report lists one by one (filtered findings are only counted)."""
    return tuple(f for f in suppressed if not parse_suppression(f.suppressed_by).is_filter)


def unique_severities(f: Finding) -> tuple[Severity, ...]:
    """The policy severity first, then every other statement once."""
    out: list[Severity] = [f.severity]
    for s in f.severities:
        if s not in out:
            out.append(s)
    return tuple(out)
