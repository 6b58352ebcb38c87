"""The Images tab: the list (filters, sorts, keyset pages), an image's facts, layers, packages, SBOM
downloads and vulnerabilities, a vulnerability's page, escaping of attacker-controlled names, roles."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pgdb import throwaway_database
from seed import seed_estate, store_image, vuln
from sqlalchemy import select
from webclient import sign_in, web_client

from containerguard.store.db import Store, migrate
from containerguard.store.tables import FindingRow, ImageRow
from containerguard.web.queries.images import (
    ImageFilter,
    VulnFilter,
    image_keys,
    list_images,
    list_vulnerabilities,
    unhealthy_first,
)

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def store_of(client: TestClient) -> Store:
    found: Store = client.app.state.ctx.store  # type: ignore[attr-defined]
    return found


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        sign_in(c, "reader")
        yield c


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def seed_small(store: Store) -> dict[str, int]:
    """Three images: one unhealthy with four findings, one healthy, one in another registry."""
    with store.session() as s:
        bad = store_image(s, "team/api", digest(1), [
            vuln("CVE-2024-0001", "openssl", "1.1.1-r0", "CRITICAL", fixed="1.1.1-r9", score=9.8,
                 title="OpenSSL overflow", description="A heap overflow.\nSecond line.",
                 references=("https://nvd.nist.gov/vuln/detail/CVE-2024-0001", "javascript:alert(1)")),
            vuln("CVE-2024-0002", "musl", "1.1.24-r2", "HIGH", score=7.0),
            vuln("CVE-2023-0003", "zlib", "1.2.11-r0", "MEDIUM", fixed="1.2.12-r0", score=None),
            vuln("CVE-2022-0004", "busybox", "1.31.1-r9", "LOW", fixed="1.31.1-r10", score=3.1),
        ], packages=(("openssl", "1.1.1-r0"), ("musl", "1.1.24-r2"), ("zlib", "1.2.11-r0"), ("busybox", "1.31.1-r9")),
            tags=("1.0", "latest"))
        good = store_image(s, "team/web", digest(2), tags=("2.0",))
        other = store_image(s, "tools/cli", digest(3), [vuln("CVE-2024-0009", "curl", "7.0", "HIGH")],
                            host="ghcr.example.com")
        return {"bad": bad.id, "good": good.id, "other": other.id}


def rows_of(page_html: str) -> list[str]:
    """The image links of a list page, in order."""
    return re.findall(r'<th scope="row" class="wrap"><a href="/images/(\d+)">', page_html)


def test_list_filters_and_counts(client: TestClient) -> None:
    ids = seed_small(store_of(client))
    page = client.get("/images")
    assert page.status_code == 200
    assert "3 images match." in page.text
    assert set(rows_of(page.text)) == {str(i) for i in ids.values()}
    assert ">C 1</span>" in page.text and ">H 1</span>" in page.text  # severity counts of team/api
    unhealthy = client.get("/images", params={"health": "Unhealthy"}).text
    assert set(rows_of(unhealthy)) == {str(ids["bad"]), str(ids["other"])}
    assert rows_of(client.get("/images", params={"registry": "ghcr.example.com"}).text) == [str(ids["other"])]
    assert rows_of(client.get("/images", params={"repository": "TEAM/"}).text) != []
    assert set(rows_of(client.get("/images", params={"repository": "team/"}).text)) == {str(ids["bad"]),
                                                                                          str(ids["good"])}
    assert rows_of(client.get("/images", params={"severity": "critical"}).text) == [str(ids["bad"])]
    assert rows_of(client.get("/images", params={"repository": "%"}).text) == []  # LIKE wildcards are literal
    by_critical = rows_of(client.get("/images", params={"sort": "critical"}).text)
    assert by_critical[0] == str(ids["bad"])
    by_repo = rows_of(client.get("/images", params={"sort": "repository"}).text)
    assert by_repo == [str(ids["other"]), str(ids["bad"]), str(ids["good"])]  # ghcr… before registry…
    for bad in ({"health": "Sick"}, {"severity": "dire"}, {"sort": "size"}, {"cursor": "!!"}):
        answer = client.get("/images", params=bad)
        assert answer.status_code == 400, bad


def test_list_pages_in_the_database_without_overlap(tmp_path: Path, client: TestClient) -> None:
    summary = seed_estate(store_of(client).engine, images=130, findings=1_300, hosts=0, clusters=0, alerts=0)
    for sort in ("last_scan", "repository", "critical"):
        seen: list[str] = []
        params: dict[str, str] = {"sort": sort}
        for _ in range(10):
            page = client.get("/images", params=params)
            assert page.status_code == 200
            seen += rows_of(page.text)
            nxt = re.search(r'<nav class="pager" aria-label="Pages"><a href="\?([^"]+)">', page.text)
            if not nxt:
                break
            params = dict(re.findall(r"([^&=]+)=([^&]*)", html.unescape(nxt.group(1))))
            assert params["sort"] == sort
        assert len(seen) == len(set(seen)) == summary.images, sort
        assert len(seen) > 50  # more than one page was walked


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def big_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A seeded store on each backend, shared by the tests that only read it (keyset order must agree
    with Python's on both)."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('big') / 'cg.db'}")
        migrate(store.engine)
        seed_estate(store.engine, images=97, findings=970, hosts=0, clusters=0, alerts=0)
        yield store
        store.close()
        return
    with throwaway_database() as url:
        store = Store(url)
        migrate(store.engine)
        seed_estate(store.engine, images=97, findings=970, hosts=0, clusters=0, alerts=0)
        yield store
        store.close()


def _walk_images(store: Store, flt: ImageFilter, size: int) -> list[int]:
    out: list[int] = []
    cursor = ""
    with store.session() as s:
        while True:
            page = list_images(s, flt, cursor, size)
            out += [i.id for i in page.items]
            if not page.next:
                return out
            cursor = page.next


@pytest.mark.parametrize("sort", ["last_scan", "repository", "critical"])
def test_keyset_order_matches_the_full_sort(big_store: Store, sort: str) -> None:
    with big_store.session() as s:
        rows = s.execute(select(ImageRow.id, ImageRow.last_scan, ImageRow.registry_host, ImageRow.repository,
                                ImageRow.critical, ImageRow.high, ImageRow.health)).all()
    if sort == "last_scan":  # newest first, never-scanned last
        expected = sorted(rows, key=lambda r: (r.last_scan is None, -(r.last_scan.timestamp() if r.last_scan else 0),
                                               -r.id))
    elif sort == "repository":
        expected = sorted(rows, key=lambda r: (r.registry_host, r.repository, r.id))
    else:
        expected = sorted(rows, key=lambda r: (-r.critical, -r.high, -r.id))
    assert _walk_images(big_store, ImageFilter(sort=sort), 7) == [r.id for r in expected]
    unhealthy = [r.id for r in expected if r.health == "Unhealthy"]
    assert _walk_images(big_store, ImageFilter(sort=sort, health="Unhealthy"), 9) == unhealthy
    assert len(image_keys(sort)) >= 2


@pytest.mark.parametrize(("sort", "reverse"), [("severity", False), ("cvss", False), ("cvss", True),
                                                ("package", False), ("id", True)])
def test_vulnerability_pages_follow_the_sort(big_store: Store, sort: str, reverse: bool) -> None:
    with big_store.session() as s:
        image_id = s.scalar(select(ImageRow.id).where(ImageRow.health == "Unhealthy").order_by(ImageRow.id))
        assert image_id is not None
        rows = s.execute(select(FindingRow.id, FindingRow.severity, FindingRow.cvss_score, FindingRow.package_name,
                                FindingRow.vuln_id).where(FindingRow.image_id == image_id,
                                                          FindingRow.state == "open")).all()
        walked: list[int] = []
        cursor = ""
        while True:
            page = list_vulnerabilities(s, image_id, VulnFilter(sort=sort, descending=reverse), cursor, 3)
            assert page.total == len(rows)
            walked += [v.id for v in page.items]
            if not page.next:
                break
            cursor = page.next
    levels = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")

    def cvss_last(r: Any, sign: int) -> tuple[bool, float]:
        return (r.cvss_score is None, sign * (r.cvss_score or 0))

    keys = {"severity": lambda r: (levels.index(r.severity), *cvss_last(r, -1), r.id),
            "cvss": lambda r: (*cvss_last(r, 1 if reverse else -1), levels.index(r.severity), r.id),
            "package": lambda r: (r.package_name, levels.index(r.severity), r.id),
            "id": lambda r: (r.vuln_id, r.id)}
    expected = sorted(rows, key=keys[sort])
    if sort == "id" and reverse:
        expected = sorted(rows, key=lambda r: r.id)
        expected = sorted(expected, key=lambda r: r.vuln_id, reverse=True)
    assert walked == [r.id for r in expected]


def test_image_page_facts_layers_and_vulnerabilities(client: TestClient) -> None:
    ids = seed_small(store_of(client))
    page = client.get(f"/images/{ids['bad']}")
    assert page.status_code == 200
    text = page.text
    assert "registry.example.com" in text and digest(1) in text and "Alpine Linux v3.11" in text
    assert "ADD rootfs.tar /" in text and "RUN apk add --no-cache app" in text  # layers from the SBOM
    assert f'href="/images/{ids["bad"]}/sbom?format=cyclonedx"' in text
    assert f'href="/images/{ids["bad"]}/sbom?format=spdx"' in text
    order = re.findall(r'/vulnerabilities/\d+">(CVE-[\d-]+)</a>', text)
    assert order == ["CVE-2024-0001", "CVE-2024-0002", "CVE-2023-0003", "CVE-2022-0004"]  # most severe first
    assert "1.1.1-r9" in text  # fixed version column
    fixable = client.get(f"/images/{ids['bad']}", params={"fixable": "1"}).text
    assert re.findall(r'/vulnerabilities/\d+">(CVE-[\d-]+)</a>', fixable) == ["CVE-2024-0001", "CVE-2023-0003",
                                                                              "CVE-2022-0004"]
    by_cvss = client.get(f"/images/{ids['bad']}", params={"sort": "cvss"}).text
    assert re.findall(r'/vulnerabilities/\d+">(CVE-[\d-]+)</a>', by_cvss) == ["CVE-2024-0001", "CVE-2024-0002",
                                                                              "CVE-2022-0004", "CVE-2023-0003"]
    one = client.get(f"/images/{ids['bad']}", params={"package": "SSL", "severity": "critical"}).text
    assert re.findall(r'/vulnerabilities/\d+">(CVE-[\d-]+)</a>', one) == ["CVE-2024-0001"]
    assert client.get(f"/images/{ids['bad']}", params={"severity": "dire"}).status_code == 400
    assert client.get("/images/9999").status_code == 404
    healthy = client.get(f"/images/{ids['good']}").text
    assert "No open vulnerability." in healthy


def test_packages_page_and_sbom_downloads(client: TestClient) -> None:
    ids = seed_small(store_of(client))
    page = client.get(f"/images/{ids['bad']}/packages")
    assert page.status_code == 200
    names = re.findall(r'<th scope="row" class="wrap">([^<]+)</th>', page.text)
    assert names == ["busybox", "musl", "openssl", "zlib"]
    assert "lib/apk/db/installed" in page.text and "(layer 2)" in page.text
    assert re.findall(r'<th scope="row" class="wrap">([^<]+)</th>',
                      client.get(f"/images/{ids['bad']}/packages", params={"q": "MUS"}).text) == ["musl"]
    in_layer_2 = client.get(f"/images/{ids['bad']}/packages", params={"layer": "2"}).text
    assert re.findall(r'<th scope="row" class="wrap">([^<]+)</th>', in_layer_2) == ["busybox", "musl"]
    assert f'href="/images/{ids["bad"]}/packages?layer=2"' in client.get(f"/images/{ids['bad']}").text
    cdx = client.get(f"/images/{ids['bad']}/sbom", params={"format": "cyclonedx"})
    assert cdx.status_code == 200
    assert cdx.headers["content-disposition"] == f'attachment; filename="team_api-{"0" * 12}.cdx.json"'
    doc = json.loads(cdx.text)
    assert doc["bomFormat"] == "CycloneDX"
    assert {"openssl", "musl", "zlib", "busybox"} <= {c["name"] for c in doc["components"]}
    spdx = client.get(f"/images/{ids['bad']}/sbom", params={"format": "spdx"})
    assert spdx.status_code == 200 and spdx.headers["content-type"].startswith("application/spdx+json")
    assert {"openssl", "musl"} <= {p["name"] for p in json.loads(spdx.text)["packages"]}
    assert client.get(f"/images/{ids['bad']}/sbom", params={"format": "xml"}).status_code == 400


def test_vulnerability_page(client: TestClient) -> None:
    ids = seed_small(store_of(client))
    with store_of(client).session() as s:
        finding = s.scalars(select(FindingRow).where(FindingRow.vuln_id == "CVE-2024-0001")).one()
    page = client.get(f"/images/{ids['bad']}/vulnerabilities/{finding.id}")
    assert page.status_code == 200
    text = page.text
    assert "OpenSSL overflow" in text and "A heap overflow.\nSecond line." in text
    assert "Upgrade openssl from 1.1.1-r0 to 1.1.1-r9 or later." in text
    assert '<a href="https://nvd.nist.gov/vuln/detail/CVE-2024-0001"' in text
    assert 'href="javascript:' not in text and "javascript:alert(1)" in text  # shown as text only
    assert "ALPINE-CVE-2024-0001" in text and "Alpine:v3.11 [0, 1.1.1-r9)" in text  # evidence
    assert "9.8" in text and "pkg:apk/alpine/openssl@1.1.1-r0" in text
    # A finding is only reachable under its own image.
    assert client.get(f"/images/{ids['good']}/vulnerabilities/{finding.id}").status_code == 404


def test_attacker_controlled_names_are_escaped(client: TestClient) -> None:
    with store_of(client).session() as s:
        image = store_image(s, f"evil/{XSS}", digest(7), [
            vuln("CVE-2024-6666", XSS, "1.0", "CRITICAL", fixed=XSS, title=XSS, description=XSS,
                 references=(f"https://x.example/{XSS}",))], packages=((XSS, "1.0"),), tags=(XSS,))
        finding_id = s.scalars(select(FindingRow.id).where(FindingRow.image_id == image.id)).one()
    pages = ["/images", f"/images/{image.id}", f"/images/{image.id}/packages",
             f"/images/{image.id}/vulnerabilities/{finding_id}"]
    for path in pages:
        text = client.get(path).text
        assert "<script>alert(1)</script>" not in text, path
        assert "<img src=x" not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_readers_and_admins_see_the_same_read_only_pages(tmp_path: Path) -> None:
    with web_client(tmp_path) as c:
        ids = seed_small(store_of(c))
        paths = ["/images", f"/images/{ids['bad']}", f"/images/{ids['bad']}/packages"]
        sign_in(c, "reader")
        as_reader = {p: c.get(p).text for p in paths}
        sign_in(c, "admin")
        for p in paths:
            as_admin = c.get(p).text
            # Left out: the CSRF token, the role badge and ages ("0 s ago" can turn "1 s ago" in between).
            unlike = r'value="[^"]+"|class="role">\w+|\d+ \w+ ago'
            assert re.sub(unlike, "", as_admin) == re.sub(unlike, "", as_reader[p]), p
            assert len(re.findall(r'method="post"', as_admin)) == 1  # only sign out
    with web_client(tmp_path / "anon") as anonymous:
        assert anonymous.get("/images").status_code == 303


def test_recommendation_resources_page_unhealthy_first(big_store: Store) -> None:
    with big_store.session() as s:
        rows = s.execute(select(ImageRow.id, ImageRow.health, ImageRow.critical, ImageRow.high)).all()
        walked: list[int] = []
        cursor = ""
        while True:
            items, cursor = unhealthy_first(s, cursor, 11)
            walked += [i.id for i in items]
            if not cursor:
                break
    rank = {"Unhealthy": 0, "Healthy": 1, "NotApplicable": 2}
    assert walked == [r.id for r in sorted(rows, key=lambda r: (rank.get(r.health, 3), -r.critical, -r.high, r.id))]
