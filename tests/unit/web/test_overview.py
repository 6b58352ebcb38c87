"""The overview: first steps on an empty estate; secure score, unhealthy counts, open vulnerabilities,
alerts of the last 24 hours, and the 30-day trends kept in daily_stats (today live, past days
reconstructed once from history, on SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pgdb import throwaway_database
from seed import store_alert, store_cluster, store_host, store_image, vuln
from sqlalchemy import select, update
from webclient import sign_in, web_client

from containerguard.jobs.assess import Assessment, record
from containerguard.models.k8s import K8sCheckResult
from containerguard.store.alerts import set_status
from containerguard.store.clusters import WorkloadInfo
from containerguard.store.db import Store, migrate
from containerguard.store.images import ensure_image
from containerguard.store.registries import add_registry
from containerguard.store.tables import AlertRow, DailyStatsRow, FindingRow, HostSnapshotRow, ImageRow
from containerguard.web.charts import Bar, Series, bar_chart, line_chart, nice_max
from containerguard.web.queries.overview import posture
from containerguard.web.queries.trends import STALE, refresh, trend

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def store_of(client: TestClient) -> Store:
    found: Store = client.app.state.ctx.store  # type: ignore[attr-defined]
    return found


def snapshot(privileged: bool) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(json.loads((FIXTURES / "hardened.json").read_text()))
    doc["containers"][0]["HostConfig"]["Privileged"] = privileged
    return doc


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        sign_in(c, "reader")
        yield c


def test_empty_estate_shows_the_first_steps(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert 'href="/registries"' in text and "Secure score" not in text
    # The registry webhook snippet's shape, with this server's URL.
    assert re.search(r"notifications:\n  endpoints:\n    - name: containerguard\n"
                     r"      url: http://testserver/api/v1/webhooks/distribution\n      headers:\n"
                     r"        Authorization: \[Bearer &lt;secret from registration&gt;\]", text)
    assert "containerguard agent --server http://testserver --token" in text
    assert "POST /api/v1/clusters" in text
    assert "this session is read-only" in text  # a reader is told the steps need an admin token
    sign_in(client, "admin")
    assert "this session is read-only" not in client.get("/").text
    with store_of(client).session() as s:
        add_registry(s, client.app.state.ctx.cipher, "hub", "http://127.0.0.1:5000")  # type: ignore[attr-defined]
    assert "Secure score" in client.get("/").text  # something registered: the posture, not the first steps


def populate(client: TestClient) -> None:
    """2 unhealthy images (1 critical, 1 high, 1 medium open), 1 healthy, 1 not applicable, 1 pending;
    hosts: one healthy, one unhealthy; workloads: one unhealthy, one healthy; alerts (see the test)."""
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with store_of(client).session() as s:
        store_image(s, "team/api", "sha256:" + "1" * 64, [vuln("CVE-1", "openssl", "1", "CRITICAL"),
                                                          vuln("CVE-2", "zlib", "1", "HIGH")])
        store_image(s, "team/db", "sha256:" + "2" * 64, [vuln("CVE-3", "musl", "1", "MEDIUM")])
        store_image(s, "team/web", "sha256:" + "3" * 64)
        store_image(s, "team/static", "sha256:" + "4" * 64, packages=(), health="NotApplicable")
        ensure_image(s, "registry.example.com", "team/new", "sha256:" + "5" * 64)
        store_host(s, "web-1", snapshot(privileged=False))
        store_host(s, "web-2", snapshot(privileged=True))
        results = [K8sCheckResult("CG-K8S-T-1", "No privileged", "HIGH", ("pss-baseline",), "fail",
                                  "Deployment/default/api", kind="Deployment", namespace="default", name="api")]
        store_cluster(s, ctx.cipher, "prod", results, [WorkloadInfo("Deployment", "default", "api"),
                                                       WorkloadInfo("Deployment", "default", "web")])
        now = datetime.now(UTC)
        store_alert(s, "Miner", "Critical", "Execution", now - timedelta(hours=1), container="a" * 12)
        store_alert(s, "Shell", "Critical", "Execution", now - timedelta(hours=2), container="b" * 12)
        store_alert(s, "Odd", "Warning", XSS, now - timedelta(hours=3), container="c" * 12)
        gone = store_alert(s, "Noise", "Critical", "Discovery", now - timedelta(hours=4), container="d" * 12)
        set_status(s, gone.id, "dismissed")
        store_alert(s, "Old", "Critical", "Impact", now - timedelta(days=2), container="e" * 12)


def cell(text: str, href: str) -> str:
    found = re.search(rf'<a href="{re.escape(href)}"[^>]*>([^<]+)</a>', text)
    assert found, href
    return found.group(1)


def test_posture_numbers_and_links(client: TestClient) -> None:
    populate(client)
    text = client.get("/").text
    # Healthy: 1 image + 1 host + 1 workload; unhealthy: 2 images + 1 host + 1 workload.
    assert "<p class=\"big\">43%</p>" in text and "3 of 7 resources healthy" in text
    assert cell(text, "/images?health=Unhealthy") == "2"
    assert cell(text, "/containers#hosts-title") == "1"
    assert cell(text, "/containers#clusters-title") == "1"
    assert "of 5 images, 1 pending" in text
    assert [cell(text, f"/images?severity={level}") for level in ("critical", "high", "medium", "low")] == \
        ["1", "1", "1", "0"]
    # Alerts of the last 24 h, dismissed ones not counted: 2 high (Critical priority), 1 medium.
    assert [cell(text, f"/alerts?severity={level}") for level in ("high", "medium", "low")] == ["2", "1", "0"]
    assert "Alerts, last 24 hours <span class=\"muted\">(3)</span>" in text
    assert cell(text, "/alerts?tactic=Execution") == "Execution"
    assert "Discovery" not in text and "Impact</a>" not in text
    # Tactics come from rules and agents: escaped in the table and in the SVG.
    assert "<script>alert(1)</script>" not in text and "<img src=x" not in text
    assert text.count("&lt;script&gt;alert(1)") >= 2  # table and SVG (where long labels are cut)
    # Charts: accessible SVG images, no inline style.
    assert len(re.findall(r'<svg class="chart-svg"[^>]* role="img" aria-labelledby="[^"]+"', text)) == 6
    assert "style=" not in text and "<script" not in text.replace("&lt;script", "")
    # Today's trend point is the live posture even though today's stored row (written when the
    # page was first shown, before anything was stored) is not stale yet.
    now = datetime.now(UTC)
    today = re.search(rf'<th scope="row">{now.date().isoformat()}</th>(.*?)</tr>', text, re.S)
    assert today is not None
    new_today = sum((now - timedelta(hours=h)).date() == now.date() for h in (1, 2, 3, 4))  # dismissed too
    assert re.findall(r'<td class="num[^"]*">([^<]+)</td>', today.group(1)) == \
        ["43%", "4", "1", "1", "1", "0", str(new_today)]
    with store_of(client).session() as s:
        stored = s.get(DailyStatsRow, datetime.now(UTC).date().isoformat())
        assert stored is not None and stored.unhealthy == 0
        assert len(s.scalars(select(DailyStatsRow)).all()) == 30


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'cg.db'}")
        migrate(opened.engine)
        yield opened
        opened.close()
        return
    with throwaway_database() as url:
        opened = Store(url)
        migrate(opened.engine)
        yield opened
        opened.close()


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=UTC)


def test_trends_reconstruct_history_once_and_refresh_today(store: Store) -> None:
    now = at(15)
    with store.session() as s:
        high = vuln("CVE-H", "zlib", "1", "HIGH")
        critical = vuln("CVE-C", "openssl", "1", "CRITICAL")
        a = store_image(s, "team/a", "sha256:" + "a" * 64, [high, critical])
        record(s, a, Assessment("Unhealthy", (high,), (), "test"), "reassess")  # closes CVE-C
        b = store_image(s, "team/b", "sha256:" + "b" * 64)
        s.execute(update(ImageRow).values(created_at=at(1)))
        s.execute(update(FindingRow).where(FindingRow.vuln_id == "CVE-H").values(first_seen=at(10, 8)))
        s.execute(update(FindingRow).where(FindingRow.vuln_id == "CVE-C")
                  .values(first_seen=at(5, 23), closed_at=at(12, 10)))
        host = store_host(s, "web-2", snapshot(privileged=True))
        s.execute(update(HostSnapshotRow).where(HostSnapshotRow.host_id == host.id).values(received_at=at(8, 23)))
        store_alert(s, "Miner", when=at(11, 1))
        assert b.health == "Healthy"
    with store.session() as s:
        refresh(s, posture(s), now)
    with store.session() as s:
        days = {d.day: d for d in trend(s, now)}
    assert len(days) == 30 and min(days) == "2026-05-17" and max(days) == "2026-06-15"

    def open_on(day: str) -> tuple[int, int]:
        return days[day].open_by_level["critical"], days[day].open_by_level["high"]

    assert open_on("2026-06-04") == (0, 0) and days["2026-06-04"].score == 100.0
    assert open_on("2026-06-05") == (1, 0) and days["2026-06-05"].images_unhealthy == 1
    assert open_on("2026-06-09") == (1, 0) and open_on("2026-06-10") == (1, 1) and open_on("2026-06-11") == (1, 1)
    assert open_on("2026-06-12") == (0, 1)  # closed during the 12th
    assert days["2026-06-07"].hosts_unhealthy == 0 and days["2026-06-08"].hosts_unhealthy == 1
    assert (days["2026-06-09"].healthy, days["2026-06-09"].unhealthy) == (1, 2)  # b; a and the host
    assert days["2026-06-11"].alerts == 1 and sum(d.alerts for d in days.values()) == 1
    assert days["2026-06-14"].source == "history" and days["2026-06-15"].source == "live"
    assert days["2026-05-17"].open_findings == 0 and days["2026-05-17"].score is None  # before any image
    # Today comes from the live posture (image counts, every resource type).
    assert open_on("2026-06-15") == (0, 1) and days["2026-06-15"].unhealthy == 2

    # Past days are not recomputed; today is rewritten only once it is stale.
    with store.session() as s:
        s.execute(update(FindingRow).values(first_seen=at(1), closed_at=None))
        store_image(s, "team/c", "sha256:" + "c" * 64, [vuln("CVE-X", "curl", "1", "CRITICAL")])
    with store.session() as s:
        refresh(s, posture(s), now + STALE - timedelta(seconds=1))
        assert s.get(DailyStatsRow, "2026-06-15").critical == 0  # type: ignore[union-attr]
        refresh(s, posture(s), now + STALE + timedelta(seconds=1))
        assert s.get(DailyStatsRow, "2026-06-15").critical == 1  # type: ignore[union-attr]
        assert s.get(DailyStatsRow, "2026-06-04").critical == 0  # type: ignore[union-attr]
        assert len(s.scalars(select(DailyStatsRow)).all()) == 30
        assert len(s.scalars(select(AlertRow)).all()) == 1


def test_charts_scale_escape_and_break_on_missing_days() -> None:
    assert [nice_max(v) for v in (0, 1, 3, 7, 26, 101, 339_507)] == [1, 1, 5, 10, 50, 200, 500_000]
    svg = line_chart("c1", XSS, ["06-01", "06-02", "06-03", "06-04"],
                     [Series(XSS, "critical", [1, None, 3, 4])], desc=XSS)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('<circle class="dot') == 1 and svg.count('<polyline class="line') == 1  # 1 | 3, 4
    bars = bar_chart("c2", "t", [Bar(XSS, "tactic", 3), Bar("b", "high", 0)])
    assert "<img" not in bars and 'width="0.0"' in bars
