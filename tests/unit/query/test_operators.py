"""Each operator, function and literal of the query language on SQLite and PostgreSQL, over the estate of
querydata.py (3 images with 9 findings, a Docker host with 3 failed controls, a cluster with 3 check
results and 2 workloads, 3 alerts). Each case: a query and the exact rows it must return."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from querydata import API_DIGEST, NGINX_DIGEST, NOW, Estate, estate

from containerguard.query.runner import run_query

SUB = "'containerguard/assessments/subassessments'"
VULNS = f"securityresources | where type == {SUB} " \
        "and properties.additionalData.assessedResourceType == 'ContainerRegistryVulnerability'"
IMAGES = "resources | where type == 'containerguard/images'"
ALERTS = "securityresources | where type == 'containerguard/alerts'"
ALERT_DAYS = len({(NOW - timedelta(**age)).date() for age in ({"minutes": 5}, {"hours": 2}, {"days": 3})})
"""Calendar days of the three seeded alerts: two, or three in the first two hours of a UTC day."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with estate(request.param, Path(tmp_path_factory.mktemp("query"))) as e:
        yield e


def rows(e: Estate, query: str, limit: int | None = None) -> list[list[Any]]:
    return run_query(e.store.engine, query, limit).rows


CASES: list[tuple[str, str, list[list[Any]]]] = [
    # ------------------------------------------------------------ tables and where
    ("count securityresources", "securityresources | count", [[22]]),
    ("count resources", "resources | count", [[9]]),
    ("table names ignore case", "SecurityResources | count", [[22]]),
    ("types", "securityresources | summarize n = count() by type | order by type asc",
     [["containerguard/alerts", 3], ["containerguard/assessments", 4], ["containerguard/assessments/subassessments",
                                                                        15]]),
    ("resource types", "resources | summarize n = count() by type | order by type asc",
     [["containerguard/clusters", 1], ["containerguard/containers", 1], ["containerguard/hosts", 2],
      ["containerguard/images", 3], ["containerguard/workloads", 2]]),
    ("==", "securityresources | where type == 'containerguard/alerts' | count", [[3]]),
    ("!=", "securityresources | where type != 'containerguard/alerts' | count", [[19]]),
    ("=~", "securityresources | where type =~ 'CONTAINERGUARD/Alerts' | count", [[3]]),
    ("!~", "securityresources | where type !~ 'CONTAINERGUARD/Alerts' | count", [[19]]),
    ("== on a mapped property", f"{VULNS} | where properties.status.severity == 'High' | count", [[4]]),
    ("=~ on a property", f"{VULNS} | where properties.status.severity =~ 'HIGH' | count", [[4]]),
    ("< > on numbers", f"{ALERTS} | where properties.id > 1 and properties.id < 3 | project properties.rule",
     [["Write below etc"]]),
    ("<= >= on numbers", f"{ALERTS} | where toint(properties.id) >= 2 and properties.count <= 1 | count", [[2]]),
    ("contains ignores case", f"{IMAGES} | where name contains 'TEAM/' | count", [[2]]),
    ("!contains", f"{IMAGES} | where name !contains 'team/' | project properties.repository",
     [["library/nginx"]]),
    ("contains_cs", f"{IMAGES} | where name contains_cs 'TEAM/' | count", [[0]]),
    ("has a whole term", f"{ALERTS} | where properties.output has 'SHELL' | project properties.rule",
     [["Terminal shell in container"]]),
    ("has is not a substring", f"{ALERTS} | where properties.output has 'she' | count", [[0]]),
    ("!has", f"{ALERTS} | where properties.output !has 'shell' | count", [[2]]),
    ("startswith", f"{IMAGES} | where name startswith 'REGISTRY.example.com/library' | count", [[1]]),
    ("endswith", f"{IMAGES} | where name endswith '{NGINX_DIGEST[-8:]}' | project properties.repository",
     [["library/nginx"]]),
    ("!startswith", f"{IMAGES} | where name !startswith 'registry.example.com/library' | count", [[2]]),
    ("in", f"{VULNS} | where properties.status.severity in ('Critical', 'High') | count", [[5]]),
    ("in a dynamic array", f"{VULNS} | where properties.status.severity in (dynamic(['Critical', 'Low'])) | count",
     [[2]]),
    ("!in", f"{VULNS} | where properties.status.severity !in ('Critical', 'High') | count", [[4]]),
    ("in~", f"{VULNS} | where properties.status.severity in~ ('critical') | count", [[1]]),
    ("in numbers", f"{ALERTS} | where properties.id in (1, 3) | count", [[2]]),
    ("and/or/not", "securityresources | where not(type == 'containerguard/alerts') or properties.severity == 'low' "
                   "| count", [[20]]),
    ("not of a comparison", f"{IMAGES} | where not(properties.health == 'Healthy') | count", [[2]]),
    ("ago()", f"{ALERTS} | where todatetime(properties.last_seen) > ago(1d) | count", [[2]]),
    ("ago() in minutes", f"{ALERTS} | where todatetime(properties.last_seen) > ago(30m) | project properties.rule",
     [["Attach to cluster-admin role"]]),
    ("now()", f"{ALERTS} | where todatetime(properties.first_seen) < now() | count", [[3]]),
    ("now() minus a timespan", f"{ALERTS} | where todatetime(properties.first_seen) < now() - 1h | count", [[2]]),
    ("datetime literal", f"{ALERTS} | where todatetime(properties.first_seen) > datetime(2000-01-01) | count",
     [[3]]),
    ("between", f"{ALERTS} | where properties.id between (2 .. 3) | count", [[2]]),
    ("!between", f"{ALERTS} | where properties.id !between (2 .. 3) | count", [[1]]),
    ("matches regex", f"{IMAGES} | where name matches regex @'/team/(api|web)@sha256:' | count", [[2]]),
    ("constant false where", "securityresources | where type == 'nothing' | count", [[0]]),
    ("missing property is null", f"{ALERTS} | where properties.status.severity == 'High' | count", [[0]]),
    # ------------------------------------------------------------ project, extend, project-away
    ("project", f"{IMAGES} | project repo = properties.repository, properties.health "
                "| order by tostring(repo) asc",
     [["library/nginx", "Unhealthy"], ["team/api", "Unhealthy"], ["team/web", "Healthy"]]),
    ("extend", f"{IMAGES} | extend repo = tostring(properties.repository), n = strlen(repo) "
               "| project repo, n | order by repo asc", [["library/nginx", 13], ["team/api", 8], ["team/web", 8]]),
    ("project-away", f"{IMAGES} | where properties.repository == 'team/api' | project-away properties, id, name",
     [["containerguard/images"]]),
    ("unnamed expressions", f"{IMAGES} | where properties.repository == 'team/web' "
                            "| project strcat('a', 'b'), toupper(properties.health)", [["ab", "HEALTHY"]]),
    # ------------------------------------------------------------ summarize
    ("summarize by severity", f"{VULNS} | summarize count() by tostring(properties.status.severity) "
                              "| order by properties_status_severity asc",
     [["Critical", 1], ["High", 4], ["Low", 1], ["Medium", 2], ["Unknown", 1]]),
    ("summarize aggregates", f"{VULNS} | summarize n = count(), "
                             "images = dcount(tostring(properties.resourceDetails.id)),"
                             " worst = max(toreal(properties.additionalData.cvss['3.1'].base)),"
                             " least = min(toreal(properties.additionalData.cvss['3.1'].base)),"
                             " total = sum(toint(properties.id)), mean = avg(toint(properties.id))",
     [[9, 2, 9.8, 7.5, 45, 5.0]]),
    ("countif", f"{VULNS} | summarize open = countif(properties.status.code == 'Unhealthy')", [[8]]),
    ("summarize without aggregates", f"{VULNS} | summarize by repo = tostring(properties.resourceDetails.repository)"
                                     " | order by repo asc", [["library/nginx"], ["team/api"]]),
    ("bin by day", f"{ALERTS} | summarize n = count() by day = bin(todatetime(properties.last_seen), 1d) "
                   "| summarize days = count(), alerts = sum(n)", [[ALERT_DAYS, 3]]),
    ("bin of numbers", f"{ALERTS} | summarize n = count() by b = bin(toint(properties.id), 2) | order by b asc",
     [[0, 1], [2, 2]]),
    ("make_set", f"{ALERTS} | where properties.severity == 'high' | summarize rules = make_set(properties.rule)",
     [[["Write below etc"]]]),
    ("make_list", f"{VULNS} | where properties.status.severity == 'Medium' "
                  "| summarize ids = make_list(properties.name) | project n = array_length(ids)", [[2]]),
    # ------------------------------------------------------------ order, top, take, count, distinct
    ("order by asc", f"{ALERTS} | order by toint(properties.id) asc | project properties.rule",
     [["Terminal shell in container"], ["Write below etc"], ["Attach to cluster-admin role"]]),
    ("order by is descending by default", f"{ALERTS} | order by toint(properties.id) | project toint(properties.id)",
     [[3], [2], [1]]),
    ("sort by", f"{ALERTS} | sort by tostring(properties.rule) asc | take 1 | project properties.rule",
     [["Attach to cluster-admin role"]]),
    ("top", f"{VULNS} | top 2 by toreal(properties.additionalData.cvss['3.1'].base) desc nulls last "
            "| project properties.name", [["CVE-2024-0001"], ["CVE-2024-0002"]]),
    ("take", f"{VULNS} | take 3 | count", [[3]]),
    ("limit", f"{VULNS} | limit 2 | count", [[2]]),
    ("count after a filter", f"{VULNS} | where properties.status.code == 'Healthy' | count", [[1]]),
    ("distinct", f"{VULNS} | extend sev = tostring(properties.status.severity) | distinct sev | order by sev asc",
     [["Critical"], ["High"], ["Low"], ["Medium"], ["Unknown"]]),
    ("distinct of two columns", "securityresources | extend k = tostring(properties.resourceDetails.source) "
                                "| distinct type, k | order by type asc, k asc",
     [["containerguard/alerts", ""], ["containerguard/assessments", ""],
      ["containerguard/assessments", "Registry"], ["containerguard/assessments/subassessments", "DockerHost"],
      ["containerguard/assessments/subassessments", "Kubernetes"],
      ["containerguard/assessments/subassessments", "Registry"]]),
    # ------------------------------------------------------------ join
    ("join leftouter", f"{IMAGES} | project rid = name, repo = tostring(properties.repository) "
                       f"| join kind=leftouter ({VULNS} | summarize n = count() by rid = "
                       "tostring(properties.resourceDetails.id)) on rid | project repo, n | order by repo asc",
     [["library/nginx", 2], ["team/api", 7], ["team/web", None]]),
    ("join inner", f"{IMAGES} | project rid = name, repo = tostring(properties.repository) "
                   f"| join kind=inner ({VULNS} | summarize n = count() by rid = "
                   "tostring(properties.resourceDetails.id)) on rid | project repo, n, rid1 | order by repo asc "
                   "| project repo, n, same = rid1 != ''",
     [["library/nginx", 2, True], ["team/api", 7, True]]),
    ("join on $left/$right", f"{IMAGES} | project a = name, repo = tostring(properties.repository) "
                             f"| join kind=inner ({VULNS} | project b = tostring(properties.resourceDetails.id)) "
                             "on $left.a == $right.b | summarize n = count() by repo | order by repo asc",
     [["library/nginx", 2], ["team/api", 7]]),
    ("default join keeps one left row per key", f"{VULNS} | project rid = tostring(properties.resourceDetails.id) "
                                                f"| join ({IMAGES} | project rid = name) on rid | count", [[2]]),
    ("leftanti", f"{IMAGES} | project rid = name | join kind=leftanti ({VULNS} | project rid = "
                 "tostring(properties.resourceDetails.id)) on rid | count", [[1]]),
    ("leftsemi", f"{IMAGES} | project rid = name | join kind=leftsemi ({VULNS} | project rid = "
                 "tostring(properties.resourceDetails.id)) on rid | count", [[2]]),
    # ------------------------------------------------------------ mv-expand and dynamic values
    ("mv-expand tags", f"{IMAGES} | mv-expand tag = properties.tags | project tag = tostring(tag) | order by tag asc",
     [["1.22"], ["1.4"], ["2.0"], ["latest"]]),
    ("mv-expand a nested array", f"{VULNS} | where properties.name == 'CVE-2024-0001' "
                                 "| mv-expand with_itemindex=i loc = "
                                 "properties.additionalData.softwareDetails.locations | project i, loc.path "
                                 "| order by i asc",
     [[0, "var/lib/dpkg/status"], [1, "usr/share/doc"]]),
    ("mv-expand of an empty array drops the row", f"{VULNS} | where properties.name == 'CVE-2024-0002' "
                                                  "| mv-expand r = properties.additionalData.vendorReferences | count",
     [[0]]),
    ("mv-expand limit", f"{IMAGES} | mv-expand tag = properties.tags limit 1 | count", [[3]]),
    ("bracket access", f"{VULNS} | where properties['name'] == 'CVE-2024-0001' "
                       "| project properties['status']['severity'], properties.additionalData.cve[0].link",
     [["Critical", "https://example.com/a"]]),
    ("whole sub-object", f"{VULNS} | where properties.name == 'CVE-2024-0005' | project properties.status",
     [[{"code": "Unhealthy", "severity": "Low", "cause": "",
        "description": "The vulnerability is present in the image"}]]),
    ("bool property", f"{VULNS} | where properties.additionalData.patchable == true | count", [[5]]),
    ("json path of a JSON column", f"{VULNS} | where properties.additionalData.evidence[0].package == 'zlib' "
                                   "| project properties.name", [["CVE-2024-0003"]]),
    ("array_length", f"{IMAGES} | project n = array_length(properties.tags), repo = tostring(properties.repository) "
                     "| order by repo asc | project n", [[1], [2], [1]]),
    ("array_length of a built array", f"{VULNS} | where properties.name == 'CVE-2024-0001' "
                                      "| project array_length(properties.additionalData.cve)", [[1]]),
    ("a renamed document keeps its paths", "securityresources | project t = type, p = properties "
                                           "| summarize n = count() by code = tostring(p.status.code), t "
                                           "| where t == 'containerguard/assessments' | order by code asc",
     [["Healthy", "containerguard/assessments", 1], ["Unhealthy", "containerguard/assessments", 3]]),
    ("a sub-object through a join", f"{IMAGES} | project rid = name | join kind=inner ({VULNS} "
                                    "| where properties.name == 'CVE-2024-0100' | project rid = "
                                    "tostring(properties.resourceDetails.id), sd = properties.additionalData."
                                    "softwareDetails) on rid | project sd.packageName, sd.fixedVersion",
     [["nginx", "1.22.2"]]),
    ("distinct *", f"{ALERTS} | project s = tostring(properties.source) | distinct * | order by s asc",
     [["k8s_audit"], ["syscall"]]),
    # ------------------------------------------------------------ functions
    ("tostring of a number", f"{ALERTS} | where properties.id == 2 | project tostring(properties.id)", [["2"]]),
    ("toint/tolong", f"{ALERTS} | where properties.id == 2 | project toint('42'), tolong('x'), toint(2.9)",
     [[42, None, 2]]),
    ("toreal", f"{VULNS} | where properties.name == 'CVE-2024-0004' | project toreal('1.5'), "
               "toreal(properties.additionalData.cvss['3.0'].base)", [[1.5, 7.5]]),
    ("parse_json", f"{ALERTS} | where properties.id == 1 | project a = parse_json('{{\"a\": [1, 2]}}').a[1], "
                   "b = todynamic('not json')", [[2, "not json"]]),
    ("extract", f"{IMAGES} | project d = extract(@'@(sha256:[0-9a-f]{{4}})', 1, name), "
                "repo = extract('repositories/(.+)/images', 1, id) | order by repo asc",
     [["sha256:c3c3", "library/nginx"], ["sha256:a1a1", "team/api"], ["sha256:b2b2", "team/web"]]),
    ("extract without a match is empty", f"{IMAGES} | take 1 | project extract('zzz(.)', 1, name)", [[""]]),
    ("tolower/toupper/strlen", f"{ALERTS} | where properties.id == 3 | project tolower(properties.severity), "
                               "toupper(properties.severity), strlen(properties.severity)",
     [["medium", "MEDIUM", 6]]),
    ("iff", f"{IMAGES} | project h = iff(properties.health == 'Healthy', 'ok', 'bad'), "
            "repo = tostring(properties.repository) | order by repo asc | project h", [["bad"], ["bad"], ["ok"]]),
    ("isempty/isnotempty", f"{ALERTS} | project e = isempty(properties.tactic), r = toint(properties.id) "
                           "| order by r asc | project e", [[False], [False], [True]]),
    ("isnotempty", f"{IMAGES} | where isnotempty(properties.index_digest) | project properties.repository",
     [["team/web"]]),
    ("case", f"{ALERTS} | project c = case(properties.severity == 'high', 3, properties.severity == 'medium', 2, 1), "
             "r = toint(properties.id) | order by r asc | project c", [[1], [3], [2]]),
    ("strcat and substring", f"{IMAGES} | where properties.repository == 'team/api' "
                             "| project strcat(properties.repository, ':', properties.tags[0]), "
                             "substring(properties.digest, 0, 10)", [["team/api:1.4", API_DIGEST[:10]]]),
    # ------------------------------------------------------------ literals
    ("string literals", f"{ALERTS} | where properties.id == 1 | project 'it\\'s', \"say \\\"hi\\\"\", @'c:\\dir'",
     [["it's", 'say "hi"', "c:\\dir"]]),
    ("number and bool literals", f"{ALERTS} | where properties.id == 1 | project 42, 1.5, -3, true, false",
     [[42, 1.5, -3, True, False]]),
    ("timespan arithmetic", f"{ALERTS} | where properties.id == 1 | project 1d + 2h, 30m, 10s",
     [["1.02:00:00", "00:30:00", "00:00:10"]]),
    ("datetime literal output", f"{ALERTS} | where properties.id == 1 | project datetime(2024-01-02T03:04:05Z)",
     [["2024-01-02T03:04:05Z"]]),
    ("arithmetic", f"{ALERTS} | where properties.id == 2 | project properties.id * 10 + 1, 7 / 2, 7.0 / 2, 7 % 3",
     [[21, 3, 3.5, 1]]),
    ("comments", f"{ALERTS} // every alert\n| count // how many", [[3]]),
]


@pytest.mark.parametrize(("name", "query", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operator(seeded: Estate, name: str, query: str, expected: list[list[Any]]) -> None:
    assert rows(seeded, query) == expected, query


def test_row_limit_truncates(seeded: Estate) -> None:
    result = run_query(seeded.store.engine, "securityresources", 5)
    assert len(result.rows) == 5 and result.truncated
    exact = run_query(seeded.store.engine, "securityresources | take 5", 5)
    assert len(exact.rows) == 5 and not exact.truncated
    assert not run_query(seeded.store.engine, "securityresources", 22).truncated


def test_column_types(seeded: Estate) -> None:
    result = run_query(seeded.store.engine, f"{ALERTS} | take 1 | project s = 'a', l = 1, r = 1.5, b = true, "
                                            "d = now(), dyn = properties.tags, t = 1h")
    assert [c["type"] for c in result.columns] == ["string", "long", "real", "bool", "datetime", "dynamic",
                                                  "timespan"]
    assert [c["name"] for c in run_query(seeded.store.engine, "securityresources | take 1").columns] == \
        ["id", "name", "type", "properties"]
