"""CycloneDX 1.6 with vulnerabilities: schema-valid, references, affects by bom-ref, ratings, fixes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from report_samples import DETECTED, RESULT, check_golden, normalise

from containerguard.report.base import get_vuln_format
from containerguard.sbom.formats.base import read_document


def cdx(result: Any = RESULT) -> str:
    text: str = get_vuln_format("cyclonedx").write(result)
    return text


@pytest.mark.parametrize("result", [RESULT, DETECTED])
def test_valid_against_schema(result: Any) -> None:
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx(result), all_errors=True) is None


def test_golden() -> None:
    check_golden("sample.scan.cdx.json", normalise(cdx()))


def test_vulnerabilities() -> None:
    doc = json.loads(cdx())
    refs = {c["bom-ref"]: c for c in doc["components"]}
    vulns = {v["bom-ref"]: v for v in doc["vulnerabilities"]}
    assert set(vulns) == {"CVE-2019-10744", "CVE-2020-28500", "CVE-2021-33203", "CVE-2023-5678", "CVE-2023-6129",
                          "GHSA-aaaa-bbbb-cccc"}
    for v in vulns.values():
        for target in v["affects"]:
            assert target["ref"] in refs  # affects names components by their bom-ref
    django = vulns["CVE-2021-33203"]
    assert {(r["id"], r["source"]["name"]) for r in django["references"]} == {
        ("GHSA-68w8-qjq3-2gfm", "GitHub"), ("PYSEC-2021-98", "OSV")}
    assert django["source"] == {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-33203"}
    assert django["analysis"]["state"] == "not_affected"
    assert django["analysis"]["justification"] == "code_not_reachable"
    assert django["recommendation"] == "Upgrade Django to 3.2.4"
    assert {(x["version"], x["status"]) for x in django["affects"][0]["versions"]} == {
        ("3.2.0", "affected"), ("3.2.4", "unaffected")}
    ratings = {(r["method"], r["severity"], r.get("score")) for r in vulns["CVE-2023-5678"]["ratings"]}
    assert ratings == {("CVSSv31", "medium", 5.3), ("other", "low", None)}
    assert vulns["GHSA-aaaa-bbbb-cccc"]["ratings"][0]["method"] == "CVSSv4"
    assert vulns["GHSA-aaaa-bbbb-cccc"]["source"]["name"] == "GitHub"
    assert vulns["CVE-2023-6129"]["analysis"] == {"detail": "ignorefile:.containerguardignore:2"}
    assert "recommendation" not in vulns["CVE-2023-6129"]  # no fix


def test_the_sbom_part_reads_back() -> None:
    # The BOM part is the SBOM writer's: our reader gets the inventory back exactly.
    back = read_document(json.loads(cdx()))
    assert back.packages == RESULT.sbom.packages and back.distro == RESULT.sbom.distro
