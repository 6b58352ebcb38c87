"""Azure Resource Graph's sample queries for container registry vulnerabilities, with our table's types and
assessment key, run with the same shape of result on SQLite and PostgreSQL.

The samples (learn.microsoft.com, "Resource Graph sample queries for Azure Container Registry" and
"Container vulnerability assessments REST API") read ``microsoft.security/...`` types; ours are
``containerguard/...``. Columns our tables do not have (``resourceGroup``, ``subscriptionId``,
``tenantId``) are left out of the projection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from querydata import API_DIGEST, REGISTRY, Estate, estate

from containerguard.query.runner import run_query

LIST_VULNERABILITIES = """
securityresources
| where type == 'containerguard/assessments'
| where properties.displayName contains 'Vulnerabilities in container registry images should be remediated'
| summarize by assessmentKey=name //the ID of the assessment
| join kind=inner (
  securityresources
  | where type == 'containerguard/assessments/subassessments'
  | extend assessmentKey = extract('.*assessments/(.+?)/.*',1,  id)
) on assessmentKey
| project assessmentKey, subassessmentKey=name, id, parse_json(properties)
| extend description = properties.description,
  displayName = properties.displayName,
  resourceId = properties.resourceDetails.id,
  resourceSource = properties.resourceDetails.source,
  category = properties.category,
  severity = properties.status.severity,
  code = properties.status.code,
  timeGenerated = properties.timeGenerated,
  remediation = properties.remediation,
  impact = properties.impact,
  vulnId = properties.id,
  additionalData = properties.additionalData
"""

RECENT_SUBASSESSMENTS = """
securityresources
| where type =~ "containerguard/assessments/subassessments"
    and properties.additionalData.assessedResourceType == "ContainerRegistryVulnerability"
| extend assessmentKey=extract(@"(?i)/assessments/([^/]*)", 1, id)
| where assessmentKey == "containerguard-image-vulnerabilities"
| extend timeGenerated = properties.timeGenerated
| where timeGenerated > ago(1h)
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with estate(request.param, Path(tmp_path_factory.mktemp("samples"))) as e:
        yield e


def test_list_container_registry_vulnerabilities(seeded: Estate) -> None:
    result = run_query(seeded.store.engine, LIST_VULNERABILITIES)
    names = [c["name"] for c in result.columns]
    assert names == ["assessmentKey", "subassessmentKey", "id", "properties", "description", "displayName",
                     "resourceId", "resourceSource", "category", "severity", "code", "timeGenerated", "remediation",
                     "impact", "vulnId", "additionalData"]
    assert [c["type"] for c in result.columns][:4] == ["string", "string", "string", "dynamic"]
    assert len(result.rows) == len(seeded.finding_ids)  # every image vulnerability, none of hosts or clusters
    by_vuln = {row[3]["name"]: dict(zip(names, row, strict=True)) for row in result.rows}
    row = by_vuln["CVE-2024-0001"]
    assert row["assessmentKey"] == "containerguard-image-vulnerabilities"
    assert row["id"].startswith(f"/registries/{REGISTRY}/repositories/team/api/images/{API_DIGEST}/assessments/")
    assert row["id"].endswith(f"/subassessments/{row['subassessmentKey']}")
    assert (row["severity"], row["code"], row["category"], row["resourceSource"]) == \
        ("Critical", "Unhealthy", "OS", "Registry")
    assert row["remediation"] == "Upgrade openssl from 3.0.1 to 3.0.9 or later."
    assert row["resourceId"] == f"{REGISTRY}/team/api@{API_DIGEST}"
    assert row["vulnId"] == row["subassessmentKey"] == row["properties"]["id"]
    assert row["additionalData"] == row["properties"]["additionalData"]
    assert row["additionalData"]["cvss"] == {"3.1": {"base": 9.8, "cvssVectorString":
                                                     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}}
    assert by_vuln["CVE-2024-0007"]["code"] == "Healthy"  # closed: kept, as Defender shows fixed findings
    assert {r["severity"] for r in by_vuln.values()} == {"Critical", "High", "Medium", "Low", "Unknown"}


def test_recent_subassessments(seeded: Estate) -> None:
    result = run_query(seeded.store.engine, RECENT_SUBASSESSMENTS)
    assert [c["name"] for c in result.columns] == ["id", "name", "type", "properties", "assessmentKey",
                                                   "timeGenerated"]
    assert len(result.rows) == len(seeded.finding_ids)
    assert {row[4] for row in result.rows} == {"containerguard-image-vulnerabilities"}
    assert not run_query(seeded.store.engine, RECENT_SUBASSESSMENTS.replace("ago(1h)", "now()")).rows
