"""containerguard's own scan JSON, schema ``containerguard/scan/v1``.

Stable: every key is always present (empty strings, lists or null when unknown), keys never change
meaning within ``v1``; a new key may be added. Shape::

    {"schema": "containerguard/scan/v1", "tool": {name, version}, "artifact": {...}, "distro": {...}|null,
     "db": "...", "health": "Healthy|Unhealthy|NotApplicable", "packages": N,
     "counts": {"CRITICAL": n, …, "UNKNOWN": n, "total": n},
     "suppressed_counts": {"filter": n, "ignorefile": n, "vex": n},
     "findings": [FINDING…], "suppressed": [FINDING…], "notes": [{"subject", "reason"}…]}

A FINDING has every :class:`~containerguard.models.finding.Finding` field; ``package`` has every
:class:`~containerguard.models.sbom.Package` field plus ``full_version``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from containerguard import __version__
from containerguard.jsontext import dumps_indented
from containerguard.models.advisory import Severity
from containerguard.models.finding import Finding, MatchEvidence
from containerguard.models.report import ScanResult
from containerguard.models.sbom import Package
from containerguard.models.serde import distro_to_dict
from containerguard.pipeline.policy import severity_counts
from containerguard.pipeline.suppression import parse_suppression
from containerguard.registry import register
from containerguard.report.base import VulnFormat

SCHEMA = "containerguard/scan/v1"


@register("vuln-format", "json")
class ScanJson(VulnFormat):
    """The scan as JSON (schema ``containerguard/scan/v1``)."""

    name = "json"

    def write(self, result: ScanResult) -> str:
        """Indented JSON with a trailing newline."""
        return dumps_indented(scan_to_dict(result), ensure_ascii=False)


def scan_to_dict(result: ScanResult) -> dict[str, Any]:
    """The whole document as plain data."""
    a = result.sbom.artifact
    counts: dict[str, int] = dict(severity_counts(result.findings))
    counts["total"] = len(result.findings)
    kinds = Counter(parse_suppression(f.suppressed_by).kind for f in result.suppressed)
    return {
        "schema": SCHEMA,
        "tool": {"name": "containerguard", "version": __version__},
        "artifact": {
            "name": a.name, "source": a.source, "manifest_digest": a.manifest_digest,
            "config_digest": a.config_digest, "repo_tags": list(a.repo_tags), "repo_digests": list(a.repo_digests),
            "platform": str(a.platform), "created": a.created,
            "layers": [{"digest": layer.digest, "diff_id": layer.diff_id} for layer in a.layers],
        },
        "distro": distro_to_dict(result.sbom.distro) if result.sbom.distro else None,
        "db": result.db_summary,
        "health": result.health,
        "packages": len(result.sbom.packages),
        "counts": counts,
        "suppressed_counts": {kind: kinds.get(kind, 0) for kind in ("filter", "ignorefile", "vex")},
        "findings": [finding_to_dict(f) for f in result.findings],
        "suppressed": [finding_to_dict(f) for f in result.suppressed],
        "notes": [{"subject": n.subject, "reason": n.reason} for n in result.notes],
    }


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """Every field of a finding."""
    return {
        "id": f.id, "aliases": list(f.aliases), "package": package_to_dict(f.package),
        "installed_version": f.installed_version, "fixed_version": f.fixed_version, "fix_state": f.fix_state,
        "severity": severity_to_dict(f.severity), "severities": [severity_to_dict(s) for s in f.severities],
        "title": f.title, "description": f.description, "references": list(f.references),
        "published": f.published, "modified": f.modified, "category": f.category,
        "evidence": [evidence_to_dict(e) for e in f.evidence], "suppressed_by": f.suppressed_by,
    }


def package_to_dict(p: Package) -> dict[str, Any]:
    """Every field of a package (unlike the SBOM serialiser, empty ones too: a stable schema)."""
    return {
        "type": p.type, "name": p.name, "version": p.version, "full_version": p.full_version,
        "namespace": p.namespace, "arch": p.arch, "source_name": p.source_name,
        "source_version": p.source_version, "epoch": p.epoch, "release": p.release, "purl": p.purl,
        "licenses": list(p.licenses), "dev": p.dev,
        "locations": [{"path": loc.path, "layer_digest": loc.layer_digest} for loc in p.locations],
    }


def severity_to_dict(s: Severity) -> dict[str, Any]:
    """A severity statement."""
    return {"level": s.level, "source": s.source, "score": s.score, "vector": s.vector}


def evidence_to_dict(e: MatchEvidence) -> dict[str, Any]:
    """How a package matched."""
    return {"record": e.record, "ecosystem": e.ecosystem, "package": e.package, "version": e.version,
            "version_field": e.version_field, "range": e.range}
