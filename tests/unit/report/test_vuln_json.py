"""Scan JSON (containerguard/scan/v1): golden file, every Finding field, counts and suppressions."""

from __future__ import annotations

import dataclasses
import json

from report_samples import DETECTED, RESULT, check_golden

from containerguard.models.finding import Finding
from containerguard.report.base import get_vuln_format, vuln_formats


def test_formats_registered() -> None:
    assert {"table", "json", "sarif", "cyclonedx"} <= set(vuln_formats())


def test_golden() -> None:
    check_golden("sample.scan.json", get_vuln_format("json").write(RESULT))


def test_shape() -> None:
    doc = json.loads(get_vuln_format("json").write(RESULT))
    assert doc["schema"] == "containerguard/scan/v1"
    assert doc["health"] == "Unhealthy"
    assert doc["counts"] == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1, "LOW": 0, "NEGLIGIBLE": 0, "UNKNOWN": 1,
                             "total": 4}
    assert doc["suppressed_counts"] == {"filter": 1, "ignorefile": 1, "vex": 1}
    assert doc["distro"]["id"] == "debian"
    assert doc["artifact"]["manifest_digest"] == RESULT.sbom.artifact.manifest_digest
    assert [f["id"] for f in doc["findings"]] == [f.id for f in RESULT.findings]
    fields = {f.name for f in dataclasses.fields(Finding)}
    for entry in doc["findings"] + doc["suppressed"]:
        assert set(entry) == fields
        assert set(entry["package"]) >= {f.name for f in dataclasses.fields(type(RESULT.findings[0].package))}
    assert {f["suppressed_by"] for f in doc["suppressed"]} == {f.suppressed_by for f in RESULT.suppressed}
    first = doc["findings"][0]
    assert first["evidence"][0]["range"] and first["severity"]["source"]
    assert doc["notes"] == [{"subject": "golang", "reason": "no advisory data for Go"}]


def test_before_policy_has_no_health() -> None:
    doc = json.loads(get_vuln_format("json").write(DETECTED))
    assert doc["health"] == "" and doc["suppressed"] == [] and doc["counts"]["total"] == len(DETECTED.findings)
