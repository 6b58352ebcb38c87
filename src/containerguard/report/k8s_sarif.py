"""``scan k8s -f sarif``: SARIF 2.1.0, one rule per check run, one result per failing resource.

``ruleId`` is the check id; the location is the manifest file (``artifactLocation.uri``, relative
as given on the command line) and the line its document starts on. Objects read from a live
cluster have no file: they get a logical location (``Kind/namespace/name``) instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from containerguard import __version__
from containerguard.jsontext import dumps_indented
from containerguard.models.k8s import FAIL, K8sAudit, K8sCheckResult, K8sCheckSpec
from containerguard.registry import register
from containerguard.report._common import DEFAULT_SCORES
from containerguard.report.k8s_base import K8sFormat

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO_URI = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
LEVELS = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


@register("k8s-format", "sarif")
class K8sSarif(K8sFormat):
    """The assessment as a SARIF log."""

    name = "sarif"

    def write(self, audit: K8sAudit) -> str:
        """Indented JSON."""
        return dumps_indented(sarif_log(audit), ensure_ascii=False)


def sarif_log(audit: K8sAudit) -> dict[str, Any]:
    """The SARIF log as plain data."""
    index = {s.id: i for i, s in enumerate(audit.specs)}
    specs = {s.id: s for s in audit.specs}
    return {
        "version": "2.1.0",
        "$schema": SCHEMA_URI,
        "runs": [{
            "tool": {"driver": {"name": "containerguard", "fullName": "containerguard Kubernetes posture checks",
                                "version": __version__, "informationUri": INFO_URI,
                                "rules": [_rule(s) for s in audit.specs]}},
            "results": [_result(r, specs[r.check_id], index[r.check_id]) for r in audit.results if r.status == FAIL],
            "columnKind": "utf16CodeUnits",
            "properties": {"standard": audit.standard, "objects": audit.objects},
        }],
    }


def _rule(spec: K8sCheckSpec) -> dict[str, Any]:
    controls = ", ".join(f"{c.standard} {c.control}" for c in spec.controls) or "containerguard"
    text = f"{spec.description}\nStandards: {controls}\nRemediation: {spec.remediation}".strip()
    return {
        "id": spec.id,
        "name": "".join(w.capitalize() for w in spec.title.replace("/", " ").split() if w.isalnum())[:80] or spec.id,
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.description or spec.title},
        "defaultConfiguration": {"level": LEVELS.get(spec.severity, "warning")},
        "help": {"text": text, "markdown": f"**{spec.title}**\n\n{spec.description}\n\n"
                                           f"Standards: {controls}\n\nRemediation: {spec.remediation}"},
        "properties": {"precision": "very-high", "security-severity": f"{DEFAULT_SCORES.get(spec.severity, 0.0):.1f}",
                       "tags": ["security", "kubernetes", spec.category or "misconfiguration", *spec.standards]},
    }


def _result(r: K8sCheckResult, spec: K8sCheckSpec, rule_index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"logicalLocations": [{"name": r.name, "fullyQualifiedName": r.resource,
                                                      "kind": "resource"}]}
    if r.file:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": quote(r.file.replace("\\", "/"), safe="/:.-_~")},
            "region": {"startLine": max(r.line, 1)},
        }
    return {
        "ruleId": r.check_id,
        "ruleIndex": rule_index,
        "level": LEVELS.get(r.severity, "warning"),
        "message": {"text": f"{r.resource}: {r.message}"},
        "locations": [location],
        "properties": {"resource": r.resource, "standards": list(r.standards)},
    }
