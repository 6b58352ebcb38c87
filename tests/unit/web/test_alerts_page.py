"""The Alerts tab: the filtered list paged in SQL, the live feed (JSON, session only), the detail page
with every event field, acknowledge/dismiss (admin, CSRF), and escaping of attacker-controlled
alert output and event fields. Alerts are recorded through the store's record_alert."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from pgdb import throwaway_database
from webclient import csrf_of, sign_in, web_client

from containerguard.api.app import create_app
from containerguard.config import Settings
from containerguard.jobs.config import ServerConfig
from containerguard.store.alerts import AlertIn, get_alert, record_alert
from containerguard.store.db import Store, migrate
from containerguard.store.hosts import register_host
from containerguard.store.tokens import create_token
from containerguard.web.pages import alerts as alerts_page
from containerguard.web.queries.alerts import AlertQuery, alert_page, alerts_after, tactics
from needs import missing

XSS = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'
WINDOW = timedelta(minutes=10)
CHROMIUM = "/usr/bin/chromium"


def record(store: Store, rule: str = "Terminal shell in container", priority: str = "Warning",
           tactic: str = "Execution", container: str = "c1", name: str = "web", output: str = "",
           fields: dict[str, Any] | None = None, hostname: str = "node-1",
           when: datetime | None = None) -> int:
    when = when or datetime.now(UTC)
    base = {"container.id": container, "container.name": name, "container.image": "registry.example.com/web:1",
            "proc.cmdline": "sh -i", "evt.time": int(when.timestamp() * 1e9)}
    alert = AlertIn(rule=rule, priority=priority, output=output or f"{priority} shell in {name}", time=when,
                    source="syscall", tactic=tactic, techniques=("T1059.004",), tags=("mitre_execution",),
                    output_fields=base | (fields or {}), hostname=hostname)
    with store.session() as s:
        row, _ = record_alert(s, alert, WINDOW)
        return row.id


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        yield c


def store_of(client: TestClient) -> Store:
    found: Store = client.app.state.ctx.store  # type: ignore[attr-defined]
    return found


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)">', html)]


def test_list_is_newest_first_filtered_and_paged(client: TestClient) -> None:
    store = store_of(client)
    ids = [record(store, container=f"c{n}", priority="Critical" if n % 3 == 0 else "Notice",
                  tactic="Impact" if n % 2 else "Execution", rule="Crypto miner" if n == 7 else "Shell")
           for n in range(60)]
    sign_in(client, "reader")
    first = client.get("/alerts")
    assert first.status_code == 200
    assert listed_ids(first.text) == ids[::-1][:50]
    nxt = re.search(r'<nav class="pager" aria-label="Pages"><a href="([^"]+)"', first.text)
    assert nxt is not None
    second = client.get("/alerts" + nxt.group(1).replace("&amp;", "&"))
    assert listed_ids(second.text) == ids[::-1][50:]
    assert "data-feed" not in second.text  # older pages are history: no live updates

    high = client.get("/alerts", params={"severity": "high"}).text
    assert listed_ids(high) == [i for n, i in enumerate(ids) if n % 3 == 0][::-1]
    impact_low = client.get("/alerts", params={"severity": "low", "tactic": "Impact"}).text
    assert listed_ids(impact_low) == [i for n, i in enumerate(ids) if n % 3 and n % 2][::-1]
    assert '<option value="Impact" selected>' in impact_low
    miner = client.get("/alerts", params={"rule": "miNER"}).text  # part of the name, any case
    assert listed_ids(miner) == [ids[7]]
    assert listed_ids(client.get("/alerts", params={"rule": "%"}).text) == []  # wildcards match literally
    assert client.get("/alerts", params={"severity": "bogus"}).status_code == 400
    assert client.get("/alerts", params={"status": "bogus"}).status_code == 400
    assert client.get("/alerts", params={"cursor": "!!"}).status_code == 400


def test_status_filter_and_empty_states(client: TestClient) -> None:
    sign_in(client, "reader")
    empty = client.get("/alerts").text
    assert 'id="alert-empty"' in empty and "containerguard watch" in empty
    assert 'data-after="0"' in empty and '<script src="/static/alerts.js" defer></script>' in empty
    store = store_of(client)
    first = record(store, container="a")
    record(store, container="b")
    with store.session() as s:
        get_alert(s, first).status = "dismissed"  # type: ignore[union-attr]
    page = client.get("/alerts", params={"status": "dismissed"}).text
    assert listed_ids(page) == [first]
    assert "No alerts match" in client.get("/alerts", params={"status": "acknowledged"}).text


def test_feed_returns_new_rows_as_json_and_needs_the_session(client: TestClient) -> None:
    store = store_of(client)
    old = record(store, container="old")
    assert client.get("/alerts/feed", params={"after": 0}).status_code == 401  # JSON, not a login redirect
    sign_in(client, "reader")
    page = client.get("/alerts").text
    assert f'data-after="{old}"' in page
    feed = re.search(r'data-feed="([^"]+)"', page)
    assert feed is not None and feed.group(1).startswith("/alerts/feed")
    answer = client.get("/alerts/feed", params={"after": old})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == {"items": [], "after": old, "more": False}

    new = record(store, rule=XSS, container="new", name=XSS_ATTR, priority="Critical")
    other = record(store, container="other", priority="Notice")
    body = client.get("/alerts/feed", params={"after": old}).json()
    assert [i["id"] for i in body["items"]] == [new, other] and body["after"] == other
    item = body["items"][0]
    assert item["rule"] == XSS and item["resource"] == XSS_ATTR  # plain text: the script sets textContent
    assert item["severity"] == "high" and item["href"] == f"/alerts/{new}" and item["status"] == "new"
    high = client.get("/alerts/feed", params={"after": old, "severity": "high"}).json()
    assert [i["id"] for i in high["items"]] == [new]
    assert client.get("/alerts/feed", params={"after": other}).json()["items"] == []
    assert client.get("/alerts/feed", params={"severity": "bogus"}).status_code == 400


def test_feed_pages_a_burst(client: TestClient) -> None:
    store = store_of(client)
    ids = [record(store, container=f"c{n}") for n in range(105)]
    sign_in(client, "reader")
    body = client.get("/alerts/feed", params={"after": 0}).json()
    assert len(body["items"]) == 100 and body["more"] is True and body["after"] == ids[99]
    rest = client.get("/alerts/feed", params={"after": body["after"]}).json()
    assert [i["id"] for i in rest["items"]] == ids[100:] and rest["more"] is False


def test_detail_shows_rule_resource_and_every_event_field(client: TestClient) -> None:
    store = store_of(client)
    with store.session() as s:
        _, host = register_host(s, "node-1")
        host_id = host.id
    record(store)  # the same rule on the same container twice: counted on one alert, the latest event's fields
    alert_id = record(store, fields={"fd.name": "/etc/shadow", "proc.args": ["-i", "-l"]})
    sign_in(client, "reader")
    page = client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    html = page.text
    for text in ("Terminal shell in container", "Warning", "Execution", "registry.example.com/web:1",
                 "container:c1", "Warning shell in web"):
        assert text in html, text
    assert '<a href="https://attack.mitre.org/techniques/T1059/004/" rel="noopener noreferrer">T1059.004</a>' in html
    assert f'<a href="/containers/hosts/{host_id}">node-1</a>' in html
    assert re.search(r"<dt>Count</dt><dd>2</dd>", html)
    fields = dict(re.findall(r'<tr><th scope="row"><code>([^<]+)</code></th><td><span class="mono">([^<]*)</span>',
                             html))
    assert fields["fd.name"] == "/etc/shadow" and fields["proc.cmdline"] == "sh -i"
    assert fields["proc.args"] == "[&#34;-i&#34;, &#34;-l&#34;]" and "evt.time" in fields
    assert "needs an admin token" in html and "/status" not in html  # readers get no buttons
    assert client.get("/alerts/999").status_code == 404


def test_acknowledge_and_dismiss_need_admin_and_csrf(client: TestClient) -> None:
    store = store_of(client)
    alert_id = record(store)
    reader_csrf = sign_in(client, "reader")
    answer = client.post(f"/alerts/{alert_id}/status", data={"csrf": reader_csrf, "status": "acknowledged"})
    assert answer.status_code == 403 and "admin" in answer.text
    client.cookies.clear()
    sign_in(client, "admin")
    page = client.get(f"/alerts/{alert_id}").text
    csrf = csrf_of(page)
    assert 'value="acknowledged">Acknowledge</button>' in page and 'value="dismissed"' in page
    assert client.post(f"/alerts/{alert_id}/status", data={"status": "acknowledged"}).status_code == 403
    assert client.post(f"/alerts/{alert_id}/status", data={"csrf": "wrong", "status": "dismissed"}).status_code == 403
    with store.session() as s:
        assert get_alert(s, alert_id).status == "new"  # type: ignore[union-attr]
    done = client.post(f"/alerts/{alert_id}/status", data={"csrf": csrf, "status": "acknowledged"})
    assert done.status_code == 303 and done.headers["location"] == f"/alerts/{alert_id}"
    with store.session() as s:
        assert get_alert(s, alert_id).status == "acknowledged"  # type: ignore[union-attr]
    assert client.post(f"/alerts/{alert_id}/status", data={"csrf": csrf, "status": "dismissed"}).status_code == 303
    with store.session() as s:
        assert get_alert(s, alert_id).status == "dismissed"  # type: ignore[union-attr]
    after = client.get(f"/alerts/{alert_id}").text
    assert 'value="dismissed"' not in after and 'value="new" class="secondary">Reopen' in after
    assert client.post(f"/alerts/{alert_id}/status", data={"csrf": csrf, "status": "deleted"}).status_code == 400
    assert client.post("/alerts/999/status", data={"csrf": csrf, "status": "dismissed"}).status_code == 404


def test_alert_data_is_escaped_everywhere(client: TestClient) -> None:
    store = store_of(client)
    alert_id = record(store, rule=f"rule {XSS}", tactic=XSS_ATTR, name=XSS, hostname=XSS_ATTR,
                      output=f"shell {XSS} {XSS_ATTR}", fields={XSS_ATTR: XSS, "fd.name": XSS_ATTR})
    sign_in(client, "admin")
    for path in ("/alerts", f"/alerts/{alert_id}", "/alerts?tactic=" + XSS_ATTR):
        html = client.get(path).text
        assert XSS not in html and XSS_ATTR not in html and "<img" not in html, path
    detail = client.get(f"/alerts/{alert_id}").text
    assert "shell &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "<code>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</code>" in detail  # a field name, as text


def test_queries_on_postgres() -> None:
    """The same filters (case-insensitive literal rule match, severity, cursor, feed) on PostgreSQL."""
    with throwaway_database() as url:
        store = Store(url)
        try:
            migrate(store.engine)
            ids = [record(store, container=f"c{n}", rule=["Shell 50%_off", "Crypto miner"][n % 2],
                          priority="Critical" if n < 3 else "Notice", tactic="Impact" if n == 4 else "Execution")
                   for n in range(6)]
            with store.session() as s:
                assert [a.id for a in alert_page(s, AlertQuery(rule="50%_")).items] == [ids[4], ids[2], ids[0]]
                assert alert_page(s, AlertQuery(rule="50%x")).items == []
                assert [a.id for a in alert_page(s, AlertQuery(rule="MINER", severity="high")).items] == [ids[1]]
                first = alert_page(s, AlertQuery(), limit=4)
                rest = alert_page(s, AlertQuery(), first.next, limit=4)
                assert [a.id for a in first.items + rest.items] == ids[::-1] and not rest.next
                assert [a.id for a in alerts_after(s, AlertQuery(severity="low"), ids[3])] == [ids[4], ids[5]]
                assert tactics(s) == ["Execution", "Impact"]
        finally:
            store.close()


def test_live_list_inserts_new_alerts_as_text_in_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """static/alerts.js in Debian's chromium: a new alert whose rule is markup appears at the top of the
    list as text, is announced in the live region, and runs nothing."""
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package")
    monkeypatch.setattr(alerts_page, "POLL_SECONDS", 1)
    config = ServerConfig(settings=Settings(home=tmp_path), database_url=f"sqlite:///{tmp_path / 'cg.db'}")
    app = create_app(config, start_workers=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        store: Store = app.state.ctx.store
        with store.session() as s:
            token, _ = create_token(s, "reader")
        old = record(store, container="old")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"http://127.0.0.1:{port}/login?next=/alerts")
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_selector(f'tr[data-id="{old}"]')
            new = record(store, rule=f"{XSS} {XSS_ATTR}", container="new", name=XSS, priority="Critical")
            page.wait_for_selector(f'tr.fresh[data-id="{new}"]', timeout=15000)
            first = page.locator("#alert-rows tr").first
            assert first.get_attribute("data-id") == str(new)
            assert first.locator("th a").inner_text() == f"{XSS} {XSS_ATTR}"
            assert first.locator("th a").get_attribute("href") == f"/alerts/{new}"
            assert page.locator("#alert-rows img, #alert-rows script").count() == 0
            assert page.inner_text("#alert-live").startswith(f"New alert: {XSS}")
            page.wait_for_timeout(1500)  # another poll: the row is not added twice
            assert page.locator(f'#alert-rows tr[data-id="{new}"]').count() == 1
            assert dialogs == []
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
