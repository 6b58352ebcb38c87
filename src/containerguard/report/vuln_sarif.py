"""SARIF 2.1.0, shaped as Trivy's (so GitHub code scanning reads it the same way).

- one rule per vulnerability id: short/full description, help (text and markdown), ``helpUri``,
  ``defaultConfiguration.level`` and ``properties`` with ``security-severity`` (the CVSS score, else
  a default per level, see :data:`._common.DEFAULT_SCORES`), tags and ``precision``;
- one result per finding: level from severity (CRITICAL/HIGH error, MEDIUM warning, LOW, NEGLIGIBLE
  and UNKNOWN note), locations = the package's files in the image, relative to ``ROOTPATH``
  (``file:///``, the image root);
- findings suppressed by the ignore file or VEX are results too, with a SARIF ``suppressions`` entry
  (kind ``external``, status ``accepted``, the reason as justification); findings removed by
  ``--severity`` / ``--ignore-unfixed`` are left out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from containerguard import __version__
from containerguard.jsontext import dumps_indented
from containerguard.models.finding import Finding
from containerguard.models.report import ScanResult
from containerguard.registry import register
from containerguard.report._common import (
    advisory_url,
    package_label,
    rank,
    recorded_suppressions,
    security_severity,
)
from containerguard.report.base import VulnFormat

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "NEGLIGIBLE": "note",
          "UNKNOWN": "note"}


@register("vuln-format", "sarif")
class Sarif(VulnFormat):
    """The scan as a SARIF 2.1.0 log."""

    name = "sarif"

    def write(self, result: ScanResult) -> str:
        """Indented JSON."""
        return dumps_indented(sarif_log(result), ensure_ascii=False)


def level(severity: str) -> str:
    """SARIF ``level`` of a severity level."""
    return LEVELS.get(severity, "none")


def sarif_log(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as plain data."""
    findings = list(result.findings) + list(recorded_suppressions(result.suppressed))
    by_id: dict[str, list[Finding]] = {}
    for f in findings:
        by_id.setdefault(f.id, []).append(f)
    rule_ids = sorted(by_id)
    rules = [_rule(rule_id, by_id[rule_id]) for rule_id in rule_ids]
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    a = result.sbom.artifact
    return {
        "version": "2.1.0",
        "$schema": SCHEMA_URI,
        "runs": [{
            "tool": {"driver": {"name": "containerguard", "fullName": "containerguard vulnerability scanner",
                                "version": __version__, "rules": rules}},
            "results": [_result(f, index[f.id], a.name) for f in findings],
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
            "properties": {"imageName": a.name, "manifestDigest": a.manifest_digest,
                           "repoTags": list(a.repo_tags), "repoDigests": list(a.repo_digests),
                           "health": result.health},
        }],
    }


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    # The worst finding speaks for the rule (one id may carry several severities across packages).
    worst = min(findings, key=lambda f: (rank(f.severity.level), -security_severity(f)))
    title = worst.title or rule_id
    url = advisory_url(rule_id)
    packages = ", ".join(sorted({f"{package_label(f.package)}@{f.installed_version}" for f in findings}))
    fixed = ", ".join(sorted({f.fixed_version for f in findings if f.fixed_version})) or "none"
    text = (f"Vulnerability {rule_id}\nSeverity: {worst.severity.level}\nPackage: {packages}\n"
            f"Fixed Version: {fixed}\nLink: {url}\n{worst.description}").rstrip()
    markdown = (f"**Vulnerability {rule_id}**\n| Severity | Package | Fixed Version | Link |\n"
                f"| --- | --- | --- | --- |\n| {worst.severity.level} | {packages} | {fixed} | [{rule_id}]({url}) |\n\n"
                f"{worst.description}").rstrip()
    return {
        "id": rule_id,
        "name": "OsPackageVulnerability" if worst.category == "OS" else "LanguageSpecificPackageVulnerability",
        "shortDescription": {"text": title},
        "fullDescription": {"text": worst.description or title},
        "defaultConfiguration": {"level": level(worst.severity.level)},
        "helpUri": url,
        "help": {"text": text, "markdown": markdown},
        "properties": {"precision": "very-high", "security-severity": f"{security_severity(worst):.1f}",
                       "tags": ["vulnerability", "security", worst.severity.level]},
    }


def _result(f: Finding, rule_index: int, image: str) -> dict[str, Any]:
    p = f.package
    label = package_label(p)
    message = (f"Package: {label}\nInstalled Version: {f.installed_version}\nVulnerability {f.id}\n"
               f"Severity: {f.severity.level}\nFixed Version: {f.fixed_version or 'none'}\n"
               f"Link: [{f.id}]({advisory_url(f.id)})")
    paths = list(dict.fromkeys(loc.path.lstrip("/") for loc in p.locations if loc.path)) or [image]
    out: dict[str, Any] = {
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level(f.severity.level),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": "ROOTPATH"},
                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
            },
            "message": {"text": f"{image}: {label}@{f.installed_version}"},
        } for path in paths],
        "properties": {"purl": p.purl, "fixState": f.fix_state, "aliases": list(f.aliases)},
    }
    if f.suppressed_by:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.suppressed_by}]
    return out
