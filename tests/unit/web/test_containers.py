"""The Containers tab: Docker hosts (seeded through the store's real ingest: snapshot -> CIS audit ->
record_assessment) and Kubernetes clusters (record_assessment with check results and workloads),
their pages, links to stored images, paging in SQL, and escaping of names from the hosts."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pgdb import throwaway_database
from webclient import sign_in, web_client

from containerguard.models.k8s import FAIL, PASS, K8sCheckResult
from containerguard.models.snapshot import snapshot_from_dict
from containerguard.pipeline.audit import audit
from containerguard.store import clusters as cluster_repo
from containerguard.store import hosts as host_repo
from containerguard.store.db import Store, migrate
from containerguard.store.images import add_tags, ensure_image
from containerguard.store.secrets import Cipher
from containerguard.web.queries.containers import cluster_lines, host_page

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host"
DIGEST = "sha256:" + "ab" * 32
XSS = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'
WORKLOAD = r'<th scope="row"><span class="kind">Deployment/shop/</span>(web-\d{3})</th>'


def snapshot_doc(extra_container: str = "") -> dict[str, Any]:
    """The hardened fixture host, its ``api`` image pinned by digest, plus (optionally) a running
    container named ``extra_container`` that breaks many CIS controls and whose image reference is
    hostile markup."""
    doc: dict[str, Any] = json.loads((FIXTURES / "hardened.json").read_text())
    doc["images"][0]["inspect"]["RepoDigests"] = [f"registry.example.com/api@{DIGEST}"]
    if extra_container:
        extra = copy.deepcopy(doc["containers"][0])
        extra.update(Id="e" * 64, Name=f"/{extra_container}", Image="sha256:" + "22" * 32)  # an unknown image
        extra["Config"]["Image"] = XSS_ATTR
        extra["HostConfig"].update(Privileged=True, Memory=0, CpuShares=0, PidsLimit=0, PidMode="host",
                                   NetworkMode="host", IpcMode="host", UTSMode="host", CapAdd=["SYS_ADMIN"],
                                   CapDrop=None, ReadonlyRootfs=False, SecurityOpt=[])
        extra["Config"]["User"] = ""
        extra["AppArmorProfile"] = ""
        doc["containers"].append(extra)
    return doc


def seed_host(store: Store, name: str, doc: dict[str, Any] | None) -> int:
    with store.session() as s:
        _, host = host_repo.register_host(s, name)
        if doc is not None:
            snapshot = snapshot_from_dict(doc)
            host_repo.record_assessment(s, host, snapshot, json.dumps(doc), audit(snapshot))
        return host.id


def stored_failures(store: Store, host_id: int) -> tuple[str, int, list[tuple[str, str]]]:
    """What the store says of the host's latest assessment: health, failing count and the failed
    (control, resource) pairs. The tests compare the pages with the store rather than with a list of
    control ids, which follows the benchmark data."""
    with store.session() as s:
        host = host_repo.get_host(s, host_id)
        snap = host_repo.get_snapshot(s, host_id)
        assert host is not None and snap is not None
        failed = [(str(r["id"]), str(r.get("resource") or "")) for r in host_repo.failed(snap.results)]
        return host.health, snap.failing, failed


def seed_image(store: Store, health: str = "Unhealthy") -> int:
    with store.session() as s:
        row = ensure_image(s, "registry.example.com", "api", DIGEST)
        add_tags(row, ["1.4"])
        row.health = health
        s.flush()
        return row.id


def seed_cluster(store: Store, cipher: Cipher, name: str, workloads: int, failing: set[int],
                 workload_name: str = "web") -> int:
    """A cluster with ``workloads`` Deployments ``{workload_name}-NNN``; those in ``failing`` fail a check."""
    with store.session() as s:
        row = cluster_repo.add_cluster(s, cipher, name, server="https://k8s.example.com:6443", token="t")
        infos, results = [], []
        for n in range(workloads):
            info = cluster_repo.WorkloadInfo("Deployment", "shop", f"{workload_name}-{n:03d}", f"uid-{n}", (
                {"name": "app", "image": f"registry.example.com/api@{DIGEST}", "image_id": ""},))
            infos.append(info)
            results.append(K8sCheckResult("pss-privileged", "Privileged containers", "high", ("PSS",),
                                          FAIL if n in failing else PASS, info.ref, kind="Deployment",
                                          namespace="shop", name=info.name))
        cluster_repo.record_assessment(s, row, results, infos, [])
        return row.id


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        yield c


def store_of(client: TestClient) -> Store:
    found: Store = client.app.state.ctx.store  # type: ignore[attr-defined]
    return found


def cipher_of(client: TestClient) -> Cipher:
    found: Cipher = client.app.state.ctx.cipher  # type: ignore[attr-defined]
    return found


def body_rows(html: str) -> list[str]:
    """The rows of every table body on the page."""
    return re.findall(r"<tr>.*?</tr>", "".join(re.findall(r"<tbody>(.*?)</tbody>", html, re.S)), re.S)


def test_needs_a_session(client: TestClient) -> None:
    for path in ("/containers", "/containers/hosts/1", "/containers/clusters/1"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


def test_empty_state_tells_the_next_step(client: TestClient) -> None:
    sign_in(client, "reader")
    page = client.get("/containers")
    assert page.status_code == 200
    assert "No Docker host reports here yet" in page.text and "containerguard agent --server" in page.text
    assert "No Kubernetes cluster registered yet" in page.text and "/api/v1/clusters" in page.text
    assert '<link rel="stylesheet" href="/static/ops.css">' in page.text


def test_lists_hosts_and_clusters_with_their_counts(client: TestClient) -> None:
    store = store_of(client)
    host_id = seed_host(store, "web-1", snapshot_doc("worker"))
    seed_host(store, "new-box", None)  # registered, never reported
    seed_cluster(store, cipher_of(client), "prod", workloads=3, failing={1})
    health, failing, _ = stored_failures(store, host_id)
    sign_in(client, "reader")
    page = client.get("/containers").text
    rows = body_rows(page)
    web = next(r for r in rows if ">web-1<" in r)
    assert "web-01" in web and "24.0.7" in web  # engine host name, Docker version
    assert "2 / 2" in web  # both containers running
    assert f"health-{health.lower()}" in web
    if failing:
        assert f"{failing} failed control" in web
    else:
        assert "failed control" not in web
    fresh = next(r for r in rows if ">new-box<" in r)
    assert "health-pending" in fresh and "never" in fresh
    prod = next(r for r in rows if ">prod<" in r)
    assert "https://k8s.example.com:6443" in prod and "health-unhealthy" in prod
    cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', prod, re.S)
    assert ">1<" in cells[0] and cells[1] == "2"  # 1 unhealthy (linked to the filter), 2 healthy


def test_host_page_links_containers_to_scanned_images_and_lists_failed_controls(client: TestClient) -> None:
    store = store_of(client)
    image_id = seed_image(store)
    host_id = seed_host(store, "web-1", snapshot_doc("worker"))
    sign_in(client, "reader")
    page = client.get(f"/containers/hosts/{host_id}")
    assert page.status_code == 200
    api_row = next(r for r in body_rows(page.text) if ">api<" in r)
    assert "registry.example.com/api:1.4" in api_row and "running" in api_row
    assert f'href="/images/{image_id}"' in api_row and "health-unhealthy" in api_row
    worker_row = next(r for r in body_rows(page.text) if ">worker<" in r)
    assert "not scanned" in worker_row
    _, _, failed = stored_failures(store, host_id)
    assert failed, "the hostile container should fail CIS controls"
    shown = [(re.search(r'<th scope="row">([^<\s]+)', r).group(1),  # type: ignore[union-attr]
              re.search(r'<span class="mono">([^<]+)</span>', r).group(1))  # type: ignore[union-attr]
             for r in body_rows(page.text.split('id="cis-title"')[1])]
    assert sorted(shown) == sorted(failed)
    assert all("Remediation" in r for r in body_rows(page.text.split('id="cis-title"')[1]))
    assert "Ubuntu 22.04.3 LTS" in page.text and "overlay2" in page.text
    assert client.get("/containers/hosts/999").status_code == 404


def test_cluster_workloads_are_paged_and_filtered(client: TestClient) -> None:
    store = store_of(client)
    image_id = seed_image(store)
    cluster_id = seed_cluster(store, cipher_of(client), "prod", workloads=120, failing={5, 77})
    sign_in(client, "reader")
    seen: list[str] = []
    path = f"/containers/clusters/{cluster_id}"
    for expected in (50, 50, 20):
        page = client.get(path)
        assert page.status_code == 200
        names = re.findall(WORKLOAD, page.text)
        assert len(names) == expected
        seen += names
        more = re.search(r'<nav class="pager" aria-label="Pages"><a href="([^"]+)"', page.text)
        if expected == 20:
            assert more is None
        else:
            assert more is not None
            path = f"/containers/clusters/{cluster_id}" + more.group(1).replace("&amp;", "&")
    assert seen == [f"web-{n:03d}" for n in range(120)]
    first = client.get(f"/containers/clusters/{cluster_id}").text
    assert f'href="/images/{image_id}"' in first and "2 unhealthy, 118 healthy" in first
    unhealthy = client.get(f"/containers/clusters/{cluster_id}", params={"health": "Unhealthy"}).text
    assert re.findall(WORKLOAD, unhealthy) == ["web-005", "web-077"]
    assert client.get(f"/containers/clusters/{cluster_id}", params={"health": "Bad"}).status_code == 400
    assert client.get(f"/containers/clusters/{cluster_id}", params={"cursor": "!!"}).status_code == 400
    assert client.get("/containers/clusters/999").status_code == 404


def test_names_from_hosts_and_clusters_are_escaped(client: TestClient) -> None:
    store = store_of(client)
    host_id = seed_host(store, XSS_ATTR, snapshot_doc(XSS))
    cluster_id = seed_cluster(store, cipher_of(client), XSS, workloads=1, failing={0}, workload_name=XSS_ATTR)
    sign_in(client, "reader")
    for path in ("/containers", f"/containers/hosts/{host_id}", f"/containers/clusters/{cluster_id}"):
        html = client.get(path).text
        assert XSS not in html and XSS_ATTR not in html and "<img" not in html, path
    host_page_html = client.get(f"/containers/hosts/{host_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in host_page_html  # the container name, shown as text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in host_page_html  # its image reference


def test_host_list_reads_inventory_facts_in_sql_on_postgres(tmp_path: Path) -> None:
    """The list reads JSON paths in SQL: the same answer on PostgreSQL as on SQLite."""
    with throwaway_database() as url:
        store = Store(url)
        try:
            migrate(store.engine)
            seed_host(store, "web-1", snapshot_doc("worker"))
            seed_host(store, "new-box", None)
            from containerguard.config import Settings

            seed_cluster(store, Cipher.for_settings(Settings(home=tmp_path)), "prod", workloads=3, failing={0})
            with store.session() as s:
                hosts = host_page(s, limit=1)
                assert [h.name for h in hosts.items] == ["new-box"] and hosts.next
                rest = host_page(s, hosts.next, limit=1)
                web = rest.items[0]
                assert (web.name, web.docker_version, web.images, web.running, web.total) == \
                       ("web-1", "24.0.7", 1, 2, 2)
                assert web.failing == stored_failures(store, web.id)[1]
                assert not rest.next
                clusters = cluster_lines(s)
                assert [(c.name, c.unhealthy, c.healthy) for c in clusters] == [("prod", 1, 2)]
        finally:
            store.close()
