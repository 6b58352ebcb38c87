"""Rows to API documents. Assessments and sub-assessments follow Microsoft Defender for Cloud's
shapes (``status{code,severity}``, ``resourceDetails``, ``additionalData``) so tools written for
Defender's container registry findings can read ours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from containerguard.models.advisory import SEVERITY_LEVELS
from containerguard.store.images import severity_counts
from containerguard.store.tables import EventRow, FindingRow, ImageRow, RegistryRow, ScanRow

RECOMMENDATION = "Vulnerabilities in container registry images should be remediated"
RECOMMENDATION_ID = "containerguard-image-vulnerabilities"
RECOMMENDATION_DESCRIPTION = (
    "Container image vulnerability assessment scans your registry for commonly known vulnerabilities (CVEs) "
    "and provides a detailed vulnerability report for each image. Resolving vulnerabilities can greatly "
    "improve your security posture, making images safer to use prior to deployment.")
RECOMMENDATION_REMEDIATION = (
    "Rebuild the image on an updated base image and upgrade the vulnerable packages to their fixed versions, "
    "then push it and redeploy the workloads that run it.")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a ``Z`` (None stays None)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def display_severity(level: str) -> str:
    """``HIGH`` → ``High`` (Defender's spelling)."""
    return level.capitalize() if level else "Unknown"


def top_severity(image: ImageRow) -> str:
    """The most severe level with an open finding ("" when none)."""
    counts = severity_counts(image)
    return next((level for level in SEVERITY_LEVELS if counts[level]), "")


def resource_id(image: ImageRow) -> str:
    """``registry/repository@digest``."""
    return f"{image.registry_host}/{image.repository}@{image.digest}"


def image_summary(image: ImageRow) -> dict[str, Any]:
    """One item of ``GET /images``."""
    return {"id": image.id, "registry": image.registry_host, "repository": image.repository, "digest": image.digest,
            "index_digest": image.index_digest or None, "tags": list(image.tags or []), "platform": image.platform,
            "health": image.health, "severity_counts": severity_counts(image), "last_scan": iso(image.last_scan)}


def image_detail(image: ImageRow) -> dict[str, Any]:
    """``GET /images/{digest}``."""
    return image_summary(image) | {
        "distro": image.distro, "packages": image.packages, "notes": list(image.notes or []),
        "last_scan_id": image.last_scan_id or None, "assessed_at": iso(image.assessed_at),
        "created_at": iso(image.created_at),
        "links": {"vulnerabilities": f"/api/v1/images/{image.digest}/vulnerabilities?repository={image.repository}",
                  "sbom": f"/api/v1/images/{image.digest}/sbom?repository={image.repository}&format=cyclonedx"}}


def remediation_text(row: FindingRow) -> str:
    """What to do about one finding: the upgrade to its fixed version, or why there is none."""
    if row.fixed_version:
        return f"Upgrade {row.package_name} from {row.installed_version} to {row.fixed_version} or later."
    if row.fix_state == "will-not-fix":
        return f"No fix will be released for {row.package_name}; remove the package or accept the risk."
    return f"No fixed version of {row.package_name} is known yet; watch for an update or remove the package."


def subassessment(row: FindingRow, image: ImageRow) -> dict[str, Any]:
    """One vulnerability of one image, shaped like a Defender sub-assessment."""
    title = row.title or row.description.split("\n", 1)[0][:200]
    display = f"{row.vuln_id}: {title}" if title else f"{row.vuln_id} in {row.package_name}"
    cvss = {"base": row.cvss_score, "cvssVectorString": row.cvss_vector} if row.cvss_score is not None else None
    version_key = row.cvss_vector.split("/", 1)[0].removeprefix("CVSS:") if row.cvss_vector.startswith("CVSS:") \
        else ("2.0" if cvss else "")
    references = [{"title": url, "link": url} for url in row.references or []]
    patchable = bool(row.fixed_version)
    status_code = "Unhealthy" if row.state == "open" else "Healthy"
    package = dict(row.package or {})
    return {
        "id": str(row.id),
        "name": row.vuln_id,
        "displayName": display,
        "status": {"code": status_code, "severity": display_severity(row.severity),
                   "cause": "" if row.state == "open" else "Fixed",
                   "description": "The vulnerability is present in the image" if row.state == "open"
                   else "The vulnerability is no longer found in the image"},
        "remediation": remediation_text(row),
        "impact": f"{display_severity(row.severity)} severity vulnerability in {row.category or 'a'} package "
                  f"{row.package_name} {row.installed_version}",
        "category": row.category,
        "description": row.description,
        "timeGenerated": iso(row.updated_at),
        "resourceDetails": {"source": "Registry", "id": resource_id(image), "registry": image.registry_host,
                            "repository": image.repository, "digest": image.digest},
        "additionalData": {
            "assessedResourceType": "ContainerRegistryVulnerability",
            "type": "Vulnerability",
            "cve": [{"title": row.vuln_id, "link": next(iter(row.references or []), "")}],
            "aliases": list(row.aliases or []),
            "cvss": {version_key: cvss} if cvss else {},
            "patchable": patchable,
            "fixedVersion": row.fixed_version,
            "fixStatus": row.fix_state,
            "publishedTime": row.published or None,
            "lastModifiedTime": row.modified or None,
            "firstSeen": iso(row.first_seen),
            "closedTime": iso(row.closed_at),
            "vendorReferences": references,
            "severitySource": row.severity_source,
            "severities": list(row.severities or []),
            "softwareDetails": {"packageName": row.package_name, "packageType": row.package_type,
                                "version": row.installed_version, "fixedVersion": row.fixed_version,
                                "category": row.category, "purl": package.get("purl", ""),
                                "locations": [{"path": path, "layer": layer}
                                              for path, layer in package.get("locations", [])],
                                "sourceName": package.get("source_name", "")},
            "evidence": list(row.evidence or []),
            "imageDigest": image.digest,
            "repositoryName": image.repository,
            "registryHost": image.registry_host,
            "tags": list(image.tags or []),
        },
    }


def assessment(image: ImageRow) -> dict[str, Any]:
    """The recommendation for one image, shaped like a Defender assessment."""
    severity = top_severity(image)
    return {
        "id": str(image.id),
        "name": RECOMMENDATION_ID,
        "displayName": RECOMMENDATION,
        "status": {"code": image.health, "severity": display_severity(severity) if severity else None},
        "resourceDetails": {"source": "Registry", "id": resource_id(image), "registry": image.registry_host,
                            "repository": image.repository, "digest": image.digest, "tags": list(image.tags or [])},
        "metadata": {"displayName": RECOMMENDATION, "description": RECOMMENDATION_DESCRIPTION,
                     "remediationDescription": RECOMMENDATION_REMEDIATION, "assessmentType": "BuiltIn",
                     "severity": display_severity(severity) if severity else "Low", "categories": ["Compute"]},
        "additionalData": {"severityCounts": severity_counts(image), "lastScan": iso(image.last_scan),
                           "assessedAt": iso(image.assessed_at),
                           "subAssessmentsLink": f"/api/v1/assessments/{image.id}/subassessments"},
    }


def scan_doc(row: ScanRow) -> dict[str, Any]:
    """A scan."""
    return {"id": row.id, "ref": row.ref, "status": row.status, "trigger": row.trigger, "attempts": row.attempts,
            "error": row.error or None, "registry": row.registry_host, "repository": row.repository,
            "digest": row.digest or None, "tags": list(row.tags or []), "queued_at": iso(row.queued_at),
            "started_at": iso(row.started_at), "finished_at": iso(row.finished_at), "duration": row.duration,
            "next_attempt_at": iso(row.not_before) if row.status == "queued" and row.attempts else None,
            "images": list(row.images or [])}


def registry_doc(row: RegistryRow) -> dict[str, Any]:
    """A registry (never its password)."""
    return {"id": row.id, "name": row.name, "url": row.url, "host": row.host, "insecure": row.insecure,
            "username": row.username or None, "has_password": bool(row.password),
            "created_at": iso(row.created_at), "last_crawl": iso(row.last_crawl),
            "crawl_error": row.crawl_error or None}


def event_doc(row: EventRow) -> dict[str, Any]:
    """An event."""
    return {"id": row.id, "kind": row.kind, "message": row.message, "image_id": row.image_id,
            "data": dict(row.data or {}), "created_at": iso(row.created_at)}
