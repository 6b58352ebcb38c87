"""The terminal table: golden file, summary line, suppressed section, notes."""

from __future__ import annotations

import dataclasses

from report_samples import RESULT, SBOM, check_golden

from containerguard.models.report import ScanResult
from containerguard.pipeline.policy import Policy, apply_policy
from containerguard.report.base import get_vuln_format


def test_golden() -> None:
    check_golden("sample.table.txt", get_vuln_format("table").write(RESULT))


def test_summary_rows_and_sections() -> None:
    text = get_vuln_format("table").write(RESULT)
    assert "Health: Unhealthy   Total: 4 (CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 1)" in text
    assert "Suppressed: 3 (ignore file: 1, VEX: 1, filters: 1)" in text
    assert "vex:not_affected (vulnerable_code_not_in_execute_path) by app.vex.json" in text
    assert "Not assessed: golang: no advisory data for Go" in text
    assert "\x1b[" not in text  # no colour codes in files
    # Rows: package, then most severe first.
    rows = [line for line in text.splitlines() if line.startswith("│ lodash")]
    assert [r.split("│")[2].strip() for r in rows] == ["CVE-2019-10744", "GHSA-aaaa-bbbb-cccc", "CVE-2020-28500"]


def test_healthy_and_not_applicable() -> None:
    healthy = apply_policy(ScanResult(sbom=SBOM, findings=()), Policy())
    text = get_vuln_format("table").write(healthy)
    assert "Health: Healthy   Total: 0" in text and "Vulnerability" not in text
    empty = apply_policy(ScanResult(sbom=dataclasses.replace(SBOM, packages=(), distro=None), findings=()), Policy())
    assert "Health: NotApplicable" in get_vuln_format("table").write(empty)
