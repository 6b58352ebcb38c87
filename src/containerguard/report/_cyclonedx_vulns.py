"""CycloneDX 1.6 with ``vulnerabilities``: the SBOM of :mod:`containerguard.sbom.formats.cyclonedx`
(components, bom-refs, dependencies) plus one vulnerability per id, as Trivy writes them:

- ``id`` and ``source`` (NVD for CVEs, GitHub for GHSAs, OSV otherwise), the other ids under
  ``references`` (each with its own source);
- ``ratings``: every severity statement (severity, score, method CVSSv31/CVSSv3/CVSSv4/CVSSv2/other,
  vector, and the rating's source, e.g. ``cvss_v3`` or ``debian-urgency``);
- ``affects``: each affected package by its component's ``bom-ref``, with the installed version
  ``affected`` and the fixed version ``unaffected``; ``recommendation``: "Upgrade X to Y";
- findings suppressed by VEX carry ``analysis`` (state ``not_affected`` / ``resolved`` with the
  justification mapped as Trivy does); ignore-file suppressions carry an ``analysis`` with only a
  ``detail`` (the user's decision, no claim about the code). Filtered findings are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from cyclonedx.model import Property, XsUri
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisJustification,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6

from containerguard.errors import SbomError
from containerguard.models.advisory import Severity
from containerguard.models.finding import Finding
from containerguard.models.report import ScanResult
from containerguard.models.sbom import Package
from containerguard.pipeline.suppression import VEX, parse_suppression
from containerguard.report._common import (
    advisory_url,
    package_label,
    rank,
    recorded_suppressions,
    source_name,
    unique_severities,
)
from containerguard.sbom.formats._cyclonedx_bom import build_bom
from containerguard.sbom.formats._shared import package_refs

_SEVERITIES = {"CRITICAL": VulnerabilitySeverity.CRITICAL, "HIGH": VulnerabilitySeverity.HIGH,
               "MEDIUM": VulnerabilitySeverity.MEDIUM, "LOW": VulnerabilitySeverity.LOW,
               "NEGLIGIBLE": VulnerabilitySeverity.INFO, "UNKNOWN": VulnerabilitySeverity.UNKNOWN}
_JUSTIFICATIONS = {
    # OpenVEX -> CycloneDX, as Trivy maps them.
    "component_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_in_execute_path": ImpactAnalysisJustification.CODE_NOT_REACHABLE,
    "vulnerable_code_cannot_be_controlled_by_adversary": ImpactAnalysisJustification.REQUIRES_ENVIRONMENT,
    "inline_mitigations_already_exist": ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
}
_STATES = {"not_affected": ImpactAnalysisState.NOT_AFFECTED, "fixed": ImpactAnalysisState.RESOLVED}


def render(result: ScanResult) -> str:
    """The scan result as indented CycloneDX 1.6 JSON."""
    try:
        bom = build_bom(result.sbom)
        refs = _ref_index(result.sbom.packages)
        for vuln in _vulnerabilities(result, refs):
            bom.vulnerabilities.add(vuln)
        return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
    except ValueError as exc:  # a purl or URI the library refuses
        raise SbomError(f"cannot write CycloneDX: {exc}") from exc


def _ref_index(packages: tuple[Package, ...]) -> dict[Package, str]:
    # The SBOM writer's bom-refs, by package; the first of equal packages keeps its ref.
    index: dict[Package, str] = {}
    for p, ref in zip(packages, package_refs(packages), strict=True):
        index.setdefault(p, ref)
    return index


def _vulnerabilities(result: ScanResult, refs: dict[Package, str]) -> list[Vulnerability]:
    # One vulnerability per (id, suppression): kept and suppressed findings of one id stay apart
    # because an analysis speaks for every package a vulnerability affects.
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in (*result.findings, *recorded_suppressions(result.suppressed)):
        groups.setdefault((f.id, f.suppressed_by), []).append(f)
    seen: dict[str, int] = {}
    out = []
    for (vuln_id, suppressed_by), group in groups.items():
        seen[vuln_id] = seen.get(vuln_id, 0) + 1
        bom_ref = vuln_id if seen[vuln_id] == 1 else f"{vuln_id}#{seen[vuln_id]}"
        out.append(_vulnerability(vuln_id, bom_ref, suppressed_by, group, refs))
    return out


def _vulnerability(vuln_id: str, bom_ref: str, suppressed_by: str, findings: list[Finding],
                   refs: dict[Package, str]) -> Vulnerability:
    worst = min(findings, key=lambda f: rank(f.severity.level))
    aliases = list(dict.fromkeys(a for f in findings for a in f.aliases if a != vuln_id))
    upgrades = [f"Upgrade {package_label(f.package)} to {f.fixed_version}" for f in findings if f.fixed_version]
    return Vulnerability(
        bom_ref=bom_ref,
        id=vuln_id,
        source=_source(vuln_id),
        references=[VulnerabilityReference(id=a, source=_source(a)) for a in aliases],
        ratings=_ratings(unique_severities(worst)),
        description=worst.title or None,
        detail=worst.description or None,
        recommendation="; ".join(dict.fromkeys(upgrades)) or None,
        advisories=[VulnerabilityAdvisory(url=XsUri(u)) for u in dict.fromkeys(worst.references) if _is_url(u)],
        published=_time(worst.published),
        updated=_time(worst.modified),
        analysis=_analysis(suppressed_by),
        affects=_affects(findings, refs),
        properties=[Property(name="containerguard:fix_state", value=s)
                    for s in sorted({f.fix_state for f in findings if f.fix_state})],
    )


def _source(vuln_id: str) -> VulnerabilitySource:
    return VulnerabilitySource(name=source_name(vuln_id), url=XsUri(advisory_url(vuln_id)))


def _ratings(severities: Iterable[Severity]) -> list[VulnerabilityRating]:
    out = []
    for s in severities:
        rating = VulnerabilityRating(
            source=VulnerabilitySource(name=s.source) if s.source else None,
            score=Decimal(str(s.score)) if s.score is not None else None,
            severity=_SEVERITIES.get(s.level, VulnerabilitySeverity.UNKNOWN), method=_method(s))
        # Set after construction: the constructor strips the "CVSS:3.1/" prefix, which CVSS v3.1/v4
        # define as part of the vector (and which Trivy keeps).
        rating.vector = s.vector or None
        out.append(rating)
    return out


def _method(s: Severity) -> VulnerabilityScoreSource:
    vector = s.vector.upper()
    if vector.startswith("CVSS:4") or s.source == "cvss_v4":
        return VulnerabilityScoreSource.CVSS_V4
    if vector.startswith("CVSS:3.1"):
        return VulnerabilityScoreSource.CVSS_V3_1
    if vector.startswith("CVSS:3") or s.source == "cvss_v3":
        return VulnerabilityScoreSource.CVSS_V3
    if s.source == "cvss_v2" or vector.startswith("AV:"):
        return VulnerabilityScoreSource.CVSS_V2
    return VulnerabilityScoreSource.OTHER


def _affects(findings: list[Finding], refs: dict[Package, str]) -> list[BomTarget]:
    targets: dict[str, list[BomTargetVersionRange]] = {}
    for f in findings:
        ref = refs.get(f.package) or _ref_by_purl(f.package, refs)
        if ref is None:
            continue
        versions = targets.setdefault(ref, [])
        versions.append(BomTargetVersionRange(version=f.installed_version,
                                              status=ImpactAnalysisAffectedStatus.AFFECTED))
        if f.fixed_version:
            versions.append(BomTargetVersionRange(version=f.fixed_version,
                                                  status=ImpactAnalysisAffectedStatus.UNAFFECTED))
    return [BomTarget(ref=ref, versions=versions) for ref, versions in targets.items()]


def _ref_by_purl(p: Package, refs: dict[Package, str]) -> str | None:
    # A finding whose package is not field-for-field one of the SBOM's (e.g. rebuilt by a matcher).
    for q, ref in refs.items():
        if (p.purl and q.purl == p.purl) or (q.type, q.namespace, q.name, q.full_version) == (
                p.type, p.namespace, p.name, p.full_version):
            return ref
    return None


def _analysis(suppressed_by: str) -> VulnerabilityAnalysis | None:
    if not suppressed_by:
        return None
    why = parse_suppression(suppressed_by)
    if why.kind != VEX:
        return VulnerabilityAnalysis(detail=suppressed_by)
    return VulnerabilityAnalysis(state=_STATES.get(why.detail), justification=_JUSTIFICATIONS.get(why.justification),
                                 detail=why.statement or suppressed_by)


def _time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))
