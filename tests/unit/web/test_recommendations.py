"""The Recommendations tab: one row per recommendation (images, CIS Docker controls, Kubernetes checks)
with unhealthy / healthy / not-applicable counts, drill-down to resources and sub-assessments."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from seed import store_cluster, store_host, store_image, vuln
from webclient import sign_in, web_client

from containerguard.api.shapes import RECOMMENDATION, RECOMMENDATION_ID
from containerguard.models.k8s import K8sCheckResult
from containerguard.store.clusters import WorkloadInfo
from containerguard.store.db import Store
from containerguard.web.queries.recommendations import k8s_specs

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def store_of(client: TestClient) -> Store:
    found: Store = client.app.state.ctx.store  # type: ignore[attr-defined]
    return found


def snapshot(privileged: bool) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "hardened.json").read_text())
    doc = copy.deepcopy(doc)
    doc["containers"][0]["HostConfig"]["Privileged"] = privileged
    return doc


def checks() -> tuple[str, str]:
    """Two real Kubernetes check ids (their specs give description and remediation)."""
    ids = sorted(k8s_specs())
    return ids[0], ids[1]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        sign_in(c, "reader")
        store = store_of(c)
        failing, passing = checks()
        with store.session() as s:
            store_image(s, "team/api", "sha256:" + "1" * 64, [
                vuln("CVE-2024-0001", "openssl", "1.1.1-r0", "CRITICAL", fixed="1.1.1-r9"),
                vuln("CVE-2024-0002", XSS, "1.0", "LOW")])
            store_image(s, "team/web", "sha256:" + "2" * 64)
            store_image(s, "team/static", "sha256:" + "3" * 64, packages=(), health="NotApplicable")
            store_host(s, "web-1", snapshot(privileged=False))
            store_host(s, "web-2", snapshot(privileged=True))
            ctx = c.app.state.ctx  # type: ignore[attr-defined]
            spec = k8s_specs()[failing]
            results = [
                K8sCheckResult(failing, spec.title, spec.severity, spec.standards, "fail", "Deployment/default/api",
                               message=f"container {XSS} runs privileged", kind="Deployment", namespace="default",
                               name="api"),
                K8sCheckResult(failing, spec.title, spec.severity, spec.standards, "pass", "Deployment/default/web",
                               kind="Deployment", namespace="default", name="web"),
                K8sCheckResult(passing, k8s_specs()[passing].title, k8s_specs()[passing].severity,
                               k8s_specs()[passing].standards, "pass", "Deployment/default/api", kind="Deployment",
                               namespace="default", name="api")]
            store_cluster(s, ctx.cipher, "prod", results, [WorkloadInfo("Deployment", "default", "api"),
                                                           WorkloadInfo("Deployment", "default", "web")])
        yield c


def rows(page: str) -> dict[str, tuple[int, int, str]]:
    """Recommendation id -> (unhealthy, healthy, not applicable) from the list page."""
    found = re.findall(r'<a href="/recommendations/([^"]+)">.*?</th>.*?<td class="num">(?:<strong>)?([\d,]+)'
                       r'(?:</strong>)?</td>\s*<td class="num">([\d,]+)</td>\s*'
                       r'<td class="num hide-narrow">([^<]+)</td>', page, re.S)
    return {rec: (int(u), int(h), na.strip()) for rec, u, h, na in found}


def test_list_counts_every_kind(client: TestClient) -> None:
    page = client.get("/recommendations")
    assert page.status_code == 200
    found = rows(page.text)
    failing, passing = checks()
    assert found[RECOMMENDATION_ID] == (1, 1, "1")
    assert found["cis-docker-5.5"] == (1, 1, "0")  # web-2 runs a privileged container, web-1 does not
    assert found[f"k8s-{failing}"] == (1, 1, "—")
    assert found[f"k8s-{passing}"] == (0, 1, "—")
    assert RECOMMENDATION in page.text
    ids = list(found)
    assert ids.index(f"k8s-{passing}") > max(ids.index(RECOMMENDATION_ID), ids.index("cis-docker-5.5"),
                                              ids.index(f"k8s-{failing}"))  # unhealthy ones first
    only = rows(client.get("/recommendations", params={"state": "unhealthy"}).text)
    assert set(only) == {RECOMMENDATION_ID, "cis-docker-5.5", f"k8s-{failing}"}
    assert set(rows(client.get("/recommendations", params={"type": "k8s"}).text)) == {f"k8s-{failing}",
                                                                                       f"k8s-{passing}"}
    assert client.get("/recommendations", params={"type": "vm"}).status_code == 400


def test_image_recommendation_drills_to_vulnerabilities_with_remediation(client: TestClient) -> None:
    page = client.get(f"/recommendations/{RECOMMENDATION_ID}")
    assert page.status_code == 200
    order = re.findall(r'/resources/(\d+)">registry.example.com/([^<]+)</a>', page.text)
    assert [name for _, name in order] == ["team/api", "team/web", "team/static"]  # unhealthy first
    resource = client.get(f"/recommendations/{RECOMMENDATION_ID}/resources/{order[0][0]}")
    assert resource.status_code == 200
    assert "Upgrade openssl from 1.1.1-r0 to 1.1.1-r9 or later." in resource.text
    assert re.search(r'href="/images/\d+/vulnerabilities/\d+">CVE-2024-0001</a>', resource.text)
    assert "No fixed version of &lt;script&gt;" in resource.text
    assert client.get(f"/recommendations/{RECOMMENDATION_ID}/resources/999").status_code == 404


def test_cis_control_drills_to_hosts_and_evidence(client: TestClient) -> None:
    page = client.get("/recommendations/cis-docker-5.5")
    assert page.status_code == 200
    hosts = re.findall(r'/resources/(\d+)">(web-\d)</a>', page.text)
    assert [name for _, name in hosts] == ["web-2", "web-1"]  # the unhealthy one first
    detail = client.get(f"/recommendations/cis-docker-5.5/resources/{hosts[0][0]}")
    assert detail.status_code == 200
    assert "Privileged" in detail.text or "privileged" in detail.text  # the evidence the check read
    assert "health-unhealthy" in detail.text and "CIS Docker Benchmark 5.5" in detail.text
    healthy = client.get(f"/recommendations/cis-docker-5.5/resources/{hosts[1][0]}")
    assert "health-unhealthy" not in healthy.text.split("<main", 1)[1]
    assert client.get("/recommendations/cis-docker-99.9").status_code == 404


def test_kubernetes_check_drills_to_results(client: TestClient) -> None:
    failing, _ = checks()
    page = client.get(f"/recommendations/k8s-{failing}")
    assert page.status_code == 200
    results = re.findall(r'/resources/(\d+)">(Deployment/default/\w+)</a>', page.text)
    assert [r for _, r in results] == ["Deployment/default/api", "Deployment/default/web"]
    assert "runs privileged" in page.text and 'href="/containers/clusters/' in page.text
    detail = client.get(f"/recommendations/k8s-{failing}/resources/{results[0][0]}")
    assert detail.status_code == 200
    spec = k8s_specs()[failing]
    assert str(escape(spec.remediation)) in detail.text
    assert client.get(f"/recommendations/k8s-{failing}/resources/999999").status_code == 404
    assert client.get("/recommendations/k8s-NOPE").status_code == 404


def test_attacker_controlled_text_is_escaped(client: TestClient) -> None:
    failing, _ = checks()
    pages = [f"/recommendations/k8s-{failing}", f"/recommendations/{RECOMMENDATION_ID}"]
    first = re.search(r'/resources/(\d+)">Deployment/default/api', client.get(pages[0]).text)
    image = re.search(r'/resources/(\d+)">registry.example.com/team/api', client.get(pages[1]).text)
    assert first and image
    shown = [pages[0], f"{pages[0]}/resources/{first.group(1)}", f"{pages[1]}/resources/{image.group(1)}"]
    for path in [*shown, pages[1], "/recommendations"]:
        text = client.get(path).text
        assert "<script>alert(1)</script>" not in text and "<img src=x" not in text, path
        if path in shown:  # the message / package name is on the page, escaped
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
