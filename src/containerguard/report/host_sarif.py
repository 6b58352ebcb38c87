"""``scan host -f sarif``: SARIF 2.1.0, one rule per control, one result per FAIL or WARN.

Host checks have no source file: each result carries a logical location naming the resource (the
container, the image, or the host itself). The result level follows our check's decision, not the
benchmark's Automated/Manual flag (see :mod:`containerguard.pipeline.audit`): a FAIL is ``error``, a
WARN (undecided) ``warning``. The flag is reported as the benchmark has it: in the rule's text, tags
and ``automated`` property, and in each result's ``automated`` property.
"""

from __future__ import annotations

from typing import Any

from containerguard import __version__
from containerguard.jsontext import dumps_indented
from containerguard.models.check import CheckResult, HostAudit, Status
from containerguard.registry import register
from containerguard.report.host_base import HostFormat

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Status.FAIL: "error", Status.WARN: "warning"}
SEVERITY = {1: "7.0", 2: "4.0"}
"""``security-severity`` by profile level: level 1 controls are the baseline, level 2 defence in depth."""


@register("host-format", "sarif")
class HostSarif(HostFormat):
    """The audit as a SARIF 2.1.0 log."""

    name = "sarif"

    def write(self, audit: HostAudit) -> str:
        """Indented JSON."""
        return dumps_indented(sarif_log(audit), ensure_ascii=False)


def sarif_log(audit: HostAudit) -> dict[str, Any]:
    """The SARIF log as plain data."""
    reported = [r for r in audit.results if r.status in LEVELS]
    by_id: dict[str, CheckResult] = {}
    for r in audit.results:
        by_id.setdefault(r.id, r)
    ids = list(by_id)
    index = {cid: i for i, cid in enumerate(ids)}
    host = audit.inventory.hostname or "docker-host"
    return {
        "version": "2.1.0",
        "$schema": SCHEMA_URI,
        "runs": [{
            "tool": {"driver": {"name": "containerguard", "fullName": "containerguard Docker host audit",
                                "version": __version__, "informationUri": "https://www.cisecurity.org/benchmark/docker",
                                "rules": [_rule(by_id[cid]) for cid in ids]}},
            "results": [_result(r, index[r.id], host) for r in reported],
            "properties": {"benchmark": audit.benchmark, "host": host, "health": audit.recommendation.status},
        }],
    }


def _rule(r: CheckResult) -> dict[str, Any]:
    kind = "Automated" if r.automated else "Manual"
    return {
        "id": r.id,
        "name": r.check or r.id,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": f"CIS {r.id} {r.title} (Level {r.level}, {kind})"},
        "help": {"text": r.remediation, "markdown": f"**Remediation**: {r.remediation}"},
        # A control's failure is an error whatever its flag; every result states its own level anyway.
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "cis-docker", f"level-{r.level}", kind.lower()],
                       "security-severity": SEVERITY.get(r.level, "4.0"), "precision": "high",
                       "automated": r.automated},
    }


def _result(r: CheckResult, rule_index: int, host: str) -> dict[str, Any]:
    resource = r.resource or host
    return {
        "ruleId": r.id,
        "ruleIndex": rule_index,
        "level": LEVELS[r.status],
        "message": {"text": f"{r.status.value} {r.id} {r.title} — {resource}: {r.evidence}"},
        "locations": [{"logicalLocations": [{"name": resource, "fullyQualifiedName": f"{host}/{resource}",
                                             "kind": "resource"}]}],
        "properties": {"status": r.status.value, "resource": r.resource, "automated": r.automated},
    }
