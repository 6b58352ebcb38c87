"""Runtime alerts through the REST API: agents post, dedup counts up, filters and cursor, acknowledge and
dismiss, the Kubernetes audit webhook (real audit events, bounded queue), forwarding to webhook and syslog."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from containerguard.api.app import create_app
from containerguard.config import load_settings
from containerguard.jobs.alerts import AlertRuntime, Forwarder, builtin_rule_files, load_server_rules
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.rules.engine import Engine
from containerguard.sources.events.k8s_audit import events_from_body
from containerguard.store.db import Store
from containerguard.store.tokens import create_token

EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "events"
CID = "2235f844d8d95e2df02d08656fc78e0cf3b6511c7b42414d7161ba3eb5da223a"


@dataclass
class Api:
    client: TestClient
    admin: str
    reader: str
    agent: str
    ctx: JobContext

    def runtime(self) -> AlertRuntime:
        found: AlertRuntime = self.client.app.state.alerts_runtime  # type: ignore[attr-defined]
        return found

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers={"Authorization": f"Bearer {token or self.reader}"})
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def post(self, path: str, body: Any, token: str | None = None) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.post(path, content=raw, headers={"Authorization": f"Bearer {token or self.agent}",
                                                            "Content-Type": "application/json"})


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("CONTAINERGUARD_HOME", str(tmp_path / "home"))
    for var in ("CONTAINERGUARD_RULES", "CONTAINERGUARD_ALERT_WEBHOOK", "CONTAINERGUARD_SYSLOG"):
        monkeypatch.delenv(var, raising=False)
    config = ServerConfig(settings=load_settings(), database_url=f"sqlite:///{tmp_path / 'cg.db'}", workers=1,
                          crawl_interval=0, db_poll=60)
    store = Store(config.url)
    ctx = JobContext.create(config, store)
    with TestClient(create_app(config, ctx, start_workers=False)) as client:
        with store.session() as s:
            admin, _ = create_token(s, "admin")
            reader, _ = create_token(s, "reader")
            agent, _ = create_token(s, "agent")
        yield Api(client, admin, reader, agent, ctx)
    store.close()


def falco_alert(rule: str = "Digital currency mining", priority: str = "Critical", cid: str = CID,
                when: datetime | None = None, tactic: str = "impact",
                image: str = "cg-test/bookworm:1") -> dict[str, Any]:
    """An alert as `containerguard watch -f json` (and Falco's json_output) writes it."""
    when = when or datetime.now(UTC)
    return {"hostname": "node-1", "output": f"10:00:00.000000000: {priority} Crypto miner executed (xmrig)",
            "output_fields": {"evt.time": int(when.timestamp() * 1e9), "proc.name": "xmrig",
                              "container.id": cid[:12], "container.name": "web", "container.image": image},
            "priority": priority, "rule": rule, "source": "syscall", "tags": ["mitre_impact", "T1496"],
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z", "tactic": tactic, "techniques": ["T1496"]}


def test_roles(api: Api) -> None:
    assert api.post("/api/v1/alerts", falco_alert(), token=api.reader).status_code == 403
    assert api.post("/api/v1/alerts", falco_alert(), token="nope").status_code == 401
    assert api.post("/api/v1/alerts", falco_alert()).status_code == 200
    assert api.client.get("/api/v1/alerts").status_code == 401
    first = api.get("/api/v1/alerts")["items"][0]
    headers = {"Authorization": f"Bearer {api.agent}"}
    assert api.client.post(f"/api/v1/alerts/{first['id']}/dismiss", headers=headers).status_code == 403


def test_dedup_counts_up_within_the_window_only(api: Api) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=2)
    body = api.post("/api/v1/alerts", [falco_alert(when=t0), falco_alert(when=t0 + timedelta(seconds=10)),
                                       falco_alert(when=t0 + timedelta(seconds=20))]).json()
    assert (body["created"], body["deduplicated"]) == (1, 2) and len(set(body["ids"])) == 1
    # another container, another rule: new alerts; the same pair past the window (300 s): a new alert
    other = "f" * 64
    body = api.post("/api/v1/alerts", {"alerts": [
        falco_alert(cid=other, when=t0), falco_alert(rule="Reverse shell", tactic="execution", when=t0),
        falco_alert(when=t0 + timedelta(seconds=20 + 301))]}).json()
    assert (body["created"], body["deduplicated"]) == (3, 0)
    items = api.get("/api/v1/alerts")["items"]
    assert len(items) == 4
    first = next(a for a in items if a["id"] == body["ids"][0] - 1)
    assert first["count"] == 3 and first["first_seen"] < first["last_seen"]
    assert first["resource"] == {"type": "container", "key": f"container:{CID[:12]}", "name": "web",
                                 "image": "cg-test/bookworm:1", "container_id": CID[:12], "container_name": "web"}
    assert first["severity"] == "high" and first["tactic"] == "impact" and first["status"] == "new"


def test_filters_and_cursor(api: Api) -> None:
    now = datetime.now(UTC)
    api.post("/api/v1/alerts", [
        falco_alert(cid=f"{i:02d}" + "c" * 62, when=now - timedelta(minutes=i)) for i in range(7)] + [
        falco_alert(rule="Shadow file or kubeconfig read", priority="Warning", tactic="credential_access",
                    cid="a" * 64, image="nginx:1.25", when=now - timedelta(days=2)),
        falco_alert(rule="Package manager run in a container", priority="Notice", tactic="command_and_control",
                    cid="b" * 64, when=now)])
    assert len(api.get("/api/v1/alerts", severity="high")["items"]) == 7
    assert len(api.get("/api/v1/alerts", severity="medium,low")["items"]) == 2
    assert len(api.get("/api/v1/alerts", priority="warning")["items"]) == 8
    assert [a["rule"] for a in api.get("/api/v1/alerts", tactic="credential_access")["items"]] == [
        "Shadow file or kubeconfig read"]
    assert len(api.get("/api/v1/alerts", resource="nginx:1.25")["items"]) == 1
    assert len(api.get("/api/v1/alerts", resource="a" * 64)["items"]) == 1
    since = (now - timedelta(days=1)).isoformat()
    assert len(api.get("/api/v1/alerts", since=since)["items"]) == 8
    assert len(api.get("/api/v1/alerts", until=since)["items"]) == 1
    seen: list[int] = []
    cursor = ""
    while True:
        page = api.get("/api/v1/alerts", limit=4, cursor=cursor)
        seen += [a["id"] for a in page["items"]]
        if not page["next"]:
            break
        cursor = page["next"]
    assert len(seen) == 9 == len(set(seen)) and seen == sorted(seen, reverse=True)
    bad = api.client.get("/api/v1/alerts", params={"severity": "severe"},
                         headers={"Authorization": f"Bearer {api.reader}"})
    assert bad.status_code == 400


def test_acknowledge_and_dismiss(api: Api) -> None:
    alert_id = api.post("/api/v1/alerts", falco_alert()).json()["ids"][0]
    headers = {"Authorization": f"Bearer {api.admin}"}
    assert api.client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers).json()["status"] == \
        "acknowledged"
    assert api.get("/api/v1/alerts", status="acknowledged")["items"][0]["id"] == alert_id
    assert api.client.post(f"/api/v1/alerts/{alert_id}/dismiss", headers=headers).json()["status"] == "dismissed"
    assert api.get("/api/v1/alerts", status="new")["items"] == []
    assert api.client.post("/api/v1/alerts/999999/dismiss", headers=headers).status_code == 404


@pytest.mark.parametrize("body", [
    {"rule": "x"},                                                  # no output
    {"rule": "x", "output": "y", "priority": "severe"},             # unknown priority
    {"rule": "x", "output": "y", "priority": "Notice", "output_fields": [1]},
    [1, 2],
])
def test_malformed_alerts_are_refused(api: Api, body: Any) -> None:
    assert api.post("/api/v1/alerts", body).status_code == 400
    assert api.post("/api/v1/alerts", b"{not json").status_code == 400


def engine_rules(body: bytes) -> Counter[str]:
    """What the built-in pack raises on ``body``, evaluated directly (the expected server result)."""
    engine = Engine(load_server_rules([]))
    return Counter(a.rule for ev in events_from_body(body) for a in engine.process(ev))


@pytest.mark.parametrize("fixture", ["audit_webhook_body.json", "audit_eventlist.jsonl"])
def test_audit_webhook_raises_the_builtin_alerts(api: Api, fixture: str) -> None:
    bodies = [b for b in (EVENTS / fixture).read_bytes().splitlines() if b.strip()] \
        if fixture.endswith(".jsonl") else [(EVENTS / fixture).read_bytes()]
    expected: Counter[str] = Counter()
    for body in bodies:
        expected += engine_rules(body)
        answer = api.post("/api/v1/k8s/audit", body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["dropped"] == 0 and answer.json()["accepted"] > 0
    assert expected, "the fixture raises alerts"
    assert api.runtime().drain()
    items = api.get("/api/v1/alerts", limit=500)["items"]
    got: Counter[str] = Counter()
    for item in items:
        got[item["rule"]] += item["count"]
        assert item["source"] == "k8s_audit" and item["resource"]["type"] == "k8s" and item["tactic"]
    assert got == expected
    stats = api.get("/api/v1/k8s/audit/stats")
    assert stats["dropped"] == 0 and stats["evaluated"] == stats["accepted"]


def test_audit_webhook_bounds_its_queue_and_counts_drops(api: Api) -> None:
    gate = threading.Event()
    runtime = AlertRuntime(api.ctx.store, None, rules=load_server_rules([]), queue_size=5)
    runtime._start_worker()  # then stall it, so the queue fills
    stalled = runtime._engine
    assert stalled is not None
    original = stalled.process
    stalled.process = lambda ev: (gate.wait(5), original(ev))[1]  # type: ignore[method-assign]
    api.client.app.state.alerts_runtime = runtime  # type: ignore[attr-defined]
    line = (EVENTS / "audit.jsonl").read_bytes().splitlines()[0]
    body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                       "items": [json.loads(line)] * 20}).encode()
    answer = api.post("/api/v1/k8s/audit", body).json()
    assert answer["accepted"] + answer["dropped"] == 20 and answer["dropped"] >= 14
    gate.set()
    assert runtime.drain()
    assert api.get("/api/v1/k8s/audit/stats")["dropped"] == answer["dropped"]
    bad = api.post("/api/v1/k8s/audit", b"{not json").json()
    assert bad["accepted"] == 0 and bad["skipped"] == 1


def test_audit_drops_are_in_metrics(api: Api) -> None:
    api.post("/api/v1/k8s/audit", (EVENTS / "audit_webhook_body.json").read_bytes())
    api.runtime().drain()
    text = api.client.get("/metrics", headers={"Authorization": f"Bearer {api.reader}"}).text
    assert 'containerguard_audit_events_total{fate="accepted"} 3.0' in text
    assert "containerguard_audit_queue_depth" in text and "containerguard_alerts_total" in text


def test_audit_webhook_needs_a_token(api: Api) -> None:
    assert api.post("/api/v1/k8s/audit", b"{}", token="nope").status_code == 401
    assert api.post("/api/v1/k8s/audit", b"{}", token=api.reader).status_code == 403


def test_extra_rules_from_the_environment(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "extra.yaml"
    rules.write_text("- rule: Any audit event\n  desc: test\n  condition: ka.verb exists\n"
                     "  output: seen %ka.verb %ka.target.resource\n  priority: DEBUG\n  source: k8s_audit\n"
                     "  tags: [mitre_discovery]\n")
    monkeypatch.setenv("CONTAINERGUARD_RULES", str(rules))
    assert len(builtin_rule_files()) >= 3
    runtime = AlertRuntime(api.ctx.store, None)
    runtime.submit_audit((EVENTS / "audit.jsonl").read_bytes().splitlines()[0])
    assert runtime.drain()
    assert runtime.audit.alerts == 1


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_new_alerts_are_forwarded_to_webhook_and_syslog(api: Api) -> None:
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)
    forwarder = Forwarder(f"http://127.0.0.1:{hook.server_port}/hook", f"127.0.0.1:{udp.getsockname()[1]}")
    runtime = AlertRuntime(api.ctx.store, None, forwarder=forwarder)
    api.client.app.state.alerts_runtime = runtime  # type: ignore[attr-defined]
    _Hook.received = []
    try:
        api.post("/api/v1/alerts", [falco_alert(), falco_alert()])  # the repeat is counted, not forwarded
        assert forwarder.flush()
        message = udp.recv(65536).decode()
        assert message.startswith("<130>1 ")  # local0 (16) * 8 + Critical (2)
        assert " containerguard - alert - " in message and '"rule":"Digital currency mining"' in message
        assert len(_Hook.received) == 1 and _Hook.received[0]["alert"]["rule"] == "Digital currency mining"
        with pytest.raises(socket.timeout):
            udp.settimeout(0.3)
            udp.recv(65536)
    finally:
        hook.shutdown()
        udp.close()
