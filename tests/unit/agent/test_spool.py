"""The agent's on-disk spool and push loop: bounded queue, order, a server that is down then up (a
local stdlib HTTP stub speaking the hosts API), rejected snapshots, refused tokens, event debouncing."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from containerguard.agent.client import ServerClient, flush
from containerguard.agent.runner import Agent, relevant
from containerguard.agent.spool import Spool
from containerguard.errors import ConfigError, SourceError
from containerguard.models.snapshot import HostSnapshot, snapshot_from_json

TOKEN = "cg_agent_token"
HOST_ID = 7


class Stub(BaseHTTPRequestHandler):
    """``GET /api/v1/hosts/me`` and ``POST /api/v1/hosts/7/snapshots``; ``status`` forces an answer."""

    bodies: ClassVar[list[bytes]] = []
    status: ClassVar[int] = 201

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, code: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"detail": "invalid token"})
        elif self.path == "/api/v1/hosts/me":
            self._answer(200, {"id": HOST_ID, "name": "h"})
        else:
            self._answer(404, {"detail": "no"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"detail": "invalid token"})
        elif self.path != f"/api/v1/hosts/{HOST_ID}/snapshots":
            self._answer(403, {"detail": "another host"})
        elif Stub.status != 201:
            self._answer(Stub.status, {"detail": f"forced {Stub.status}"})
        elif not body.startswith(b"{"):
            self._answer(400, {"detail": "not a host snapshot"})
        else:
            Stub.bodies.append(body)
            self._answer(201, {"id": len(Stub.bodies), "health": "Healthy", "failed_scored_controls": 0})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StubServer:
    """The stub on a fixed port, startable after the agent first found it down."""

    def __init__(self) -> None:
        self.port = free_port()
        self.httpd: ThreadingHTTPServer | None = None
        Stub.bodies = []
        Stub.status = 201

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Stub)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer()
    yield server
    server.stop()


def payload(n: int) -> bytes:
    return json.dumps({"n": n}).encode()


def sent_numbers() -> list[int]:
    return [json.loads(b)["n"] for b in Stub.bodies]


def test_bounded_queue_keeps_the_newest_and_logs_drops(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path / "spool", limit=3)
    with caplog.at_level(logging.WARNING, "containerguard.agent"):
        for n in range(5):
            spool.put(payload(n))
    assert [json.loads(spool.read(p))["n"] for p in spool.items()] == [2, 3, 4]
    assert len([r for r in caplog.records if "dropping the oldest" in r.message]) == 2
    assert (tmp_path / "spool").stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError):
        Spool(tmp_path / "other", limit=0)


def test_order_survives_a_clock_stepping_back_and_restarts(tmp_path: Path) -> None:
    ticks = iter([5_000, 4_000, 3_000, 10_000])

    def clock() -> int:
        return next(ticks)

    Spool(tmp_path, limit=10, clock=clock).put(payload(0))
    Spool(tmp_path, limit=10, clock=clock).put(payload(1))  # a new process (agent restart), clock stepped back
    again = Spool(tmp_path, limit=10, clock=clock)
    again.put(payload(2))
    again.put(payload(3))
    assert [json.loads(again.read(p))["n"] for p in again.items()] == [0, 1, 2, 3]
    (tmp_path / "99999999999999999999-1.tmp").write_bytes(b"{half")  # a write cut by a crash
    assert len(again) == 4


def test_server_down_then_up_delivers_everything_in_order(tmp_path: Path, stub: StubServer) -> None:
    spool = Spool(tmp_path, limit=50)
    client = ServerClient(stub.url, TOKEN, timeout=5)
    for n in range(3):
        spool.put(payload(n))
        result = flush(spool, client)  # nothing listens yet
        assert result.sent == [] and result.error and "cannot reach" in result.error
    assert result.remaining == 3
    stub.start()
    spool.put(payload(3))
    result = flush(spool, client)
    assert result.error == "" and result.remaining == 0 and len(result.sent) == 4
    assert sent_numbers() == [0, 1, 2, 3]
    # Server errors (503) keep the queue like an outage; the next flush sends it.
    Stub.status = 503
    spool.put(payload(4))
    assert flush(spool, client).remaining == 1 and sent_numbers() == [0, 1, 2, 3]
    Stub.status = 201
    assert flush(spool, client).remaining == 0 and sent_numbers() == [0, 1, 2, 3, 4]
    client.close()


def test_rejected_snapshot_is_dropped_and_the_rest_still_sent(tmp_path: Path, stub: StubServer) -> None:
    stub.start()
    spool = Spool(tmp_path)
    spool.put(payload(0))
    spool.put(b"garbage")
    spool.put(payload(2))
    result = flush(spool, ServerClient(stub.url, TOKEN))
    assert result.rejected == 1 and result.remaining == 0 and sent_numbers() == [0, 2]


def test_a_refused_token_raises_and_keeps_the_queue(tmp_path: Path, stub: StubServer) -> None:
    stub.start()
    spool = Spool(tmp_path)
    spool.put(payload(0))
    with pytest.raises(ConfigError, match="refused the agent token"):
        flush(spool, ServerClient(stub.url, "cg_wrong"))
    assert len(spool) == 1
    with pytest.raises(ConfigError):
        ServerClient("ftp://x", TOKEN)


def fixture_snapshot() -> HostSnapshot:
    return snapshot_from_json((Path(__file__).parents[2] / "fixtures" / "host" / "hardened.json").read_text())


def test_agent_collects_on_interval_and_debounces_event_bursts(tmp_path: Path, stub: StubServer) -> None:
    stub.start()
    collected: list[float] = []
    snapshot = fixture_snapshot()

    def collect() -> HostSnapshot:
        collected.append(time.monotonic())
        return snapshot

    agent = Agent(ServerClient(stub.url, TOKEN), Spool(tmp_path), collect, interval=3600, debounce=0.3, retry=0.2)
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while len(Stub.bodies) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(collected) == 1  # the first collection is immediate
        for _ in range(5):  # a burst of container starts
            agent.trigger("container start")
        while len(Stub.bodies) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.6)  # a second snapshot for the same burst would have come by now
        assert len(collected) == 2 and collected[1] - collected[0] >= 0.3
        assert json.loads(Stub.bodies[1])["version"]["Version"] == "24.0.7"
    finally:
        agent.stop()
        runner.join(timeout=10)
    assert not runner.is_alive()


def test_agent_retries_the_spool_while_the_server_is_away(tmp_path: Path, stub: StubServer) -> None:
    def broken() -> HostSnapshot:
        raise SourceError("cannot reach a Docker Engine at unix:///nope")

    spool = Spool(tmp_path)
    spool.put(payload(0))  # queued during an earlier outage
    agent = Agent(ServerClient(stub.url, TOKEN, timeout=2), spool, broken, interval=3600, retry=0.2)
    assert agent.cycle().remaining == 1  # engine down and server down: nothing lost
    with pytest.raises(SourceError):
        agent.cycle(strict=True)
    runner = threading.Thread(target=agent.run)
    runner.start()
    try:
        time.sleep(0.3)
        stub.start()
        deadline = time.monotonic() + 10
        while Stub.bodies == [] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sent_numbers() == [0] and len(spool) == 0
    finally:
        agent.stop()
        runner.join(timeout=10)


@pytest.mark.parametrize(("event", "expected"), [
    ({"Type": "container", "Action": "start"}, True),
    ({"Type": "container", "Action": "die"}, True),
    ({"Type": "container", "Action": "stop"}, True),
    ({"Type": "image", "Action": "pull"}, True),
    ({"Type": "container", "Action": "exec_start: sh -c id"}, False),
    ({"Type": "container", "Action": "attach"}, False),
    ({"Type": "network", "Action": "connect"}, False),
    ({"Type": "image", "Action": "start"}, False),
    ({}, False),
])
def test_which_docker_events_trigger_a_snapshot(event: dict[str, Any], expected: bool) -> None:
    assert relevant(event) is expected
