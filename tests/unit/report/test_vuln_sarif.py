"""SARIF 2.1.0: valid against the OASIS schema, one rule per id, levels, security-severity, locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_samples import DETECTED, RESULT, check_golden

from containerguard.report.base import get_vuln_format

SCHEMA = Path(__file__).parents[3] / "src/containerguard/report/schemas/sarif-schema-2.1.0.json"


def sarif(result: Any = RESULT) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(get_vuln_format("sarif").write(result))
    return doc


@pytest.mark.parametrize("result", [RESULT, DETECTED])
def test_valid_against_schema(result: Any) -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(sarif(result)))
    assert errors == []


def test_schema_rejects_a_broken_log() -> None:
    # The validation above can fail: a result without a message is not SARIF.
    doc = sarif()
    del doc["runs"][0]["results"][0]["message"]
    schema = json.loads(SCHEMA.read_text())
    assert list(jsonschema.Draft4Validator(schema).iter_errors(doc))


def test_golden() -> None:
    check_golden("sample.sarif.json", get_vuln_format("sarif").write(RESULT))


def test_rules_results_levels_and_scores() -> None:
    run = sarif()["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    # Kept findings and the ignore/VEX-suppressed ones; the severity-filtered one is left out.
    assert set(rules) == {"CVE-2019-10744", "CVE-2020-28500", "CVE-2021-33203", "CVE-2023-5678", "CVE-2023-6129",
                          "GHSA-aaaa-bbbb-cccc"}
    assert rules["CVE-2019-10744"]["properties"]["security-severity"] == "9.1"
    assert rules["CVE-2019-10744"]["defaultConfiguration"]["level"] == "error"
    assert rules["GHSA-aaaa-bbbb-cccc"]["properties"]["security-severity"] == "8.7"  # CVSS v4 score
    assert rules["CVE-2020-28500"]["properties"]["security-severity"] == "0.0"  # UNKNOWN, no score
    assert rules["CVE-2020-28500"]["defaultConfiguration"]["level"] == "note"
    assert rules["CVE-2023-5678"]["defaultConfiguration"]["level"] == "warning"
    assert rules["CVE-2023-5678"]["name"] == "OsPackageVulnerability"
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    by_id = {r["ruleId"]: r for r in run["results"]}
    lodash = by_id["CVE-2019-10744"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert lodash == {"uri": "app/node_modules/lodash/package.json", "uriBaseId": "ROOTPATH"}
    assert "suppressions" not in by_id["CVE-2019-10744"]
    assert by_id["CVE-2021-33203"]["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "vex:not_affected (vulnerable_code_not_in_execute_path) by app.vex.json"}]
    assert by_id["CVE-2023-6129"]["suppressions"][0]["justification"] == "ignorefile:.containerguardignore:2"
