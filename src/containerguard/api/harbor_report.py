"""Harbor Pluggable Scanner Adapter documents (spec v1.1/v1.2): scanner metadata, the vulnerability
report (``HarborVulnerabilityReport``) and the SBOM report, built from stored rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from containerguard import __version__
from containerguard.models.advisory import SEVERITY_LEVELS
from containerguard.store.tables import FindingRow, ImageRow

from .shapes import iso

SCANNER = {"name": "containerguard", "vendor": "containerguard", "version": __version__}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONSUMES = (OCI_MANIFEST, DOCKER_MANIFEST)
VULN_REPORT_1_1 = "application/vnd.security.vulnerability.report; version=1.1"
VULN_REPORT_HARBOR = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
SBOM_REPORT = "application/vnd.security.sbom.report+json; version=1.0"
VULN_REPORTS = (VULN_REPORT_1_1, VULN_REPORT_HARBOR)
PRODUCES = (*VULN_REPORTS, SBOM_REPORT)
SBOM_MEDIA_TYPES = {"application/spdx+json": "spdx", "application/vnd.cyclonedx+json": "cyclonedx"}
METADATA_MEDIA = "application/vnd.scanner.adapter.metadata+json; version=1.1"
SCAN_RESPONSE_MEDIA = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR_MEDIA = "application/vnd.scanner.adapter.error+json; version=1.0"

# Harbor's scale, least severe first (its enum has no "None": an empty report is "Unknown").
_HARBOR_ORDER = ("Unknown", "Negligible", "Low", "Medium", "High", "Critical")


def media_key(value: str) -> str:
    """A MIME type compared loosely: lower case, no blanks (``a; version=1.1`` == ``a;version=1.1``)."""
    return "".join(value.lower().split())


def pick_media(accept: str, offered: Sequence[str]) -> str:
    """The first type of an ``Accept`` header we produce ("" when none); absent or ``*/*`` means
    the first offered type."""
    wanted = [part.strip() for part in _split_accept(accept) if part.strip()]
    if not wanted or any(w in ("*/*", "*") for w in wanted):
        return offered[0]
    known = {media_key(m): m for m in offered}
    return next((known[media_key(w)] for w in wanted if media_key(w) in known), "")


def _split_accept(accept: str) -> list[str]:
    # Parameters use ';', alternatives ','; a q-value is not a version: drop it.
    out = []
    for part in accept.split(","):
        params = [p for p in part.split(";") if not p.strip().lower().startswith("q=")]
        out.append(";".join(params))
    return out


def metadata(db_updated_at: str) -> dict[str, Any]:
    """``GET /api/v1/metadata``."""
    properties = {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
                  "harbor.scanner-adapter/vulnerability-database-updated-at": db_updated_at,
                  "org.containerguard/language-packages": "pypi, npm, golang, maven, gem, cargo, composer, nuget"}
    return {"scanner": SCANNER,
            "capabilities": [
                {"type": "vulnerability", "consumes_mime_types": list(CONSUMES),
                 "produces_mime_types": list(VULN_REPORTS)},
                {"type": "sbom", "consumes_mime_types": list(CONSUMES), "produces_mime_types": [SBOM_REPORT],
                 "additional_attributes": {"sbom_media_types": list(SBOM_MEDIA_TYPES)}}],
            "properties": {k: v for k, v in properties.items() if v}}


def harbor_severity(level: str) -> str:
    """``HIGH`` → ``High``; anything unknown → ``Unknown``."""
    return level.capitalize() if level in SEVERITY_LEVELS else "Unknown"


def _cvss(row: FindingRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in row.severities or []:
        vector, score = str(entry.get("vector") or ""), entry.get("score")
        version = "v3" if vector.startswith("CVSS:3") else ("v2" if vector and "Au:" in vector else "")
        if version and score is not None and f"score_{version}" not in out:
            out[f"score_{version}"], out[f"vector_{version}"] = float(score), vector
    if "score_v3" not in out and row.cvss_score is not None and row.cvss_vector.startswith("CVSS:3"):
        out["score_v3"], out["vector_v3"] = row.cvss_score, row.cvss_vector
    return out


def _layer(row: FindingRow, layers: dict[str, str]) -> dict[str, str] | None:
    for location in (row.package or {}).get("locations") or []:
        diff_id = location[1] if isinstance(location, list | tuple) and len(location) > 1 else ""
        if diff_id:
            return {"digest": layers.get(diff_id, ""), "diff_id": diff_id}
    return None


def vulnerability(row: FindingRow, layers: dict[str, str]) -> dict[str, Any]:
    """One ``VulnerabilityItem``."""
    package = dict(row.package or {})
    item: dict[str, Any] = {
        "id": row.vuln_id, "package": row.package_name, "version": row.installed_version,
        "fix_version": row.fixed_version, "severity": harbor_severity(row.severity),
        "description": row.description or row.title, "links": list(row.references or []),
        "preferred_cvss": _cvss(row), "cwe_ids": [],
        "vendor_attributes": {"aliases": list(row.aliases or []), "package_type": row.package_type,
                              "purl": package.get("purl", ""), "category": row.category,
                              "fix_state": row.fix_state, "severity_source": row.severity_source,
                              "published": row.published, "modified": row.modified, "title": row.title},
    }
    layer = _layer(row, layers)
    if layer is not None:
        item["layer"] = layer
    return item


def vulnerability_report(artifact: dict[str, str], generated_at: datetime | None, findings: Sequence[FindingRow],
                         layers: dict[str, str]) -> dict[str, Any]:
    """A ``HarborVulnerabilityReport``: the open findings of the scanned image; ``severity`` is the
    worst of them."""
    items = [vulnerability(row, layers) for row in findings]
    worst = max((item["severity"] for item in items), key=_HARBOR_ORDER.index, default="Unknown")
    return {"generated_at": iso(generated_at), "artifact": artifact, "scanner": SCANNER, "severity": worst,
            "vulnerabilities": items}


def sbom_report(artifact: dict[str, str], generated_at: datetime | None, media_type: str,
                sbom: dict[str, Any], image: ImageRow) -> dict[str, Any]:
    """A ``HarborSbomReport``."""
    return {"generated_at": iso(generated_at), "artifact": artifact, "scanner": SCANNER,
            "media_type": media_type, "sbom": sbom,
            "vendor_attributes": {"packages": image.packages, "distro": image.distro, "platform": image.platform}}


def error(message: str) -> dict[str, Any]:
    """The ``ErrorResponse`` envelope."""
    return {"error": {"message": message}}
