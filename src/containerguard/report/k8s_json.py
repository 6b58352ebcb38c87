"""``scan k8s -f json``, schema ``containerguard/k8s/v1``. Shape::

    {"schema": "containerguard/k8s/v1", "tool": {name, version}, "standard": "" | "pss-restricted" | …,
     "objects": N, "summary": {"pass": n, "fail": n},
     "controls": [{"standard", "control", "checks": [id…], "pass": n, "fail": n, "failing": [resource…]}…],
     "checks": [{"id", "title", "severity", "standards", "controls": [{standard, control}…], "category",
                 "description", "remediation"}…],
     "results": [{"check_id", "title", "severity", "standards", "status", "resource", "kind", "namespace",
                  "name", "message", "file", "line"}…],
     "skipped": [{"source", "line", "reason"}…], "notes": [text…]}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from containerguard import __version__
from containerguard.jsontext import dumps_indented
from containerguard.models.k8s import FAIL, PASS, K8sAudit
from containerguard.pipeline.k8s_audit import control_summaries
from containerguard.registry import register
from containerguard.report.k8s_base import K8sFormat

SCHEMA = "containerguard/k8s/v1"


@register("k8s-format", "json")
class K8sJson(K8sFormat):
    """The assessment as JSON."""

    name = "json"

    def write(self, audit: K8sAudit) -> str:
        """Indented JSON."""
        return dumps_indented(k8s_document(audit), ensure_ascii=False)


def k8s_document(audit: K8sAudit) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "containerguard", "version": __version__},
        "standard": audit.standard,
        "objects": audit.objects,
        "summary": {"pass": sum(r.status == PASS for r in audit.results),
                    "fail": sum(r.status == FAIL for r in audit.results)},
        "controls": [{"standard": c.standard, "control": c.control, "checks": list(c.checks), "pass": len(c.passed),
                      "fail": len(c.failed), "failing": list(c.failed)} for c in control_summaries(audit)],
        "checks": [{"id": s.id, "title": s.title, "severity": s.severity, "standards": list(s.standards),
                    "controls": [asdict(c) for c in s.controls], "category": s.category,
                    "description": s.description, "remediation": s.remediation} for s in audit.specs],
        "results": [{**asdict(r), "standards": list(r.standards)} for r in audit.results],
        "skipped": [{"source": s.source, "line": s.line, "reason": s.reason} for s in audit.skipped],
        "notes": list(audit.notes),
    }
