"""The unix-socket Engine API client, against a small scripted HTTP server on a real unix socket."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from containerguard.errors import SourceError
from containerguard.sources.docker_host import HostCollector
from containerguard.sources.engine_http import EngineError, EngineHTTP

PING = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
HANG = b""
"""An answer of nothing: the server reads the request and never replies."""
HANG_UP = b"<hang up>"
"""The server reads the request and closes the connection without a byte."""

Answer = bytes | Callable[[str], bytes]


def answer(body: Any, status: str = "200 OK", chunked: bool = False, close: bool = False) -> bytes:
    """An HTTP/1.1 answer with a JSON body (``bytes`` sent as they are), by length or in 7-byte chunks."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = f"HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
    if close:
        head += "Connection: close\r\n"
    if not chunked:
        return f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data
    pieces = [data[i:i + 7] for i in range(0, len(data), 7)]
    return (f"{head}Transfer-Encoding: chunked\r\n\r\n".encode()
            + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n")


def echo(target: str) -> bytes:
    """Every path answers its own request target, so a test sees what was asked."""
    return answer({"target": target})


class Engine:
    """A scripted engine: ``routes`` maps a path (query left off) to an answer; others get ``default``.

    ``requests`` records (connection number, request target, User-Agent); ``close_after`` closes each
    connection after that many answers without saying so (as an idle keep-alive timeout does).
    """

    def __init__(self, path: Path, routes: dict[str, Answer], default: Answer = echo,
                 close_after: int | None = None) -> None:
        self.path = path
        self.routes = {"/_ping": PING, **routes}
        self.default = default
        self.close_after = close_after
        self.requests: list[tuple[int, str, str]] = []
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(8)
        self._server.settimeout(0.05)

    def url(self) -> str:
        return f"unix://{self.path}"

    def serve(self) -> None:
        with self._server:
            while not self._stop.is_set():
                try:
                    conn, _ = self._server.accept()
                except TimeoutError:
                    continue
                number = self.connections
                self.connections += 1
                thread = threading.Thread(target=self._connection, args=(conn, number), daemon=True)
                thread.start()
                self._threads.append(thread)
        self.path.unlink()
        for thread in self._threads:
            thread.join()

    def _connection(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        answered = 0
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                if b"\r\n\r\n" not in buffer:
                    try:
                        data = conn.recv(65536)
                    except TimeoutError:
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    buffer += data
                    continue
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                target = lines[0].split(" ")[1]
                agent = next((line.split(":", 1)[1].strip() for line in lines[1:]
                              if line.lower().startswith("user-agent:")), "")
                self.requests.append((number, target, agent))
                route = self.routes.get(target.split("?")[0], self.default)
                reply = route(target) if callable(route) else route
                if reply is HANG:
                    self._stop.wait()
                    return
                if reply is HANG_UP:
                    return
                try:
                    conn.sendall(reply)
                except OSError:
                    return
                answered += 1
                if b"Connection: close" in reply.split(b"\r\n\r\n")[0] or not reply.startswith(b"HTTP/1.1"):
                    return
                if self.close_after is not None and answered >= self.close_after:
                    return

    def stop(self) -> None:
        self._stop.set()

    def targets(self) -> list[str]:
        return [target for _, target, _ in self.requests]


@contextmanager
def engine(tmp_path: Path, routes: dict[str, Answer] | None = None, **kwargs: Any) -> Iterator[Engine]:
    server = Engine(tmp_path / "e.sock", routes or {}, **kwargs)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join()


def chain(exc: BaseException) -> list[type[BaseException]]:
    out: list[type[BaseException]] = []
    seen: BaseException | None = exc
    while seen is not None:
        out.append(type(seen))
        seen = seen.__cause__
    return out


# --- what is asked: the SDK's paths and queries ---------------------------------------------------

CALLS: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    ("version", (), {}),
    ("info", (), {}),
    ("containers", (), {"all": True}),
    ("containers", (), {}),
    ("images", (), {}),
    ("images", (), {"all": True}),
    ("inspect_container", ("c1",), {}),
    ("top", ("c1",), {}),
    ("inspect_image", ("sha256:" + "1" * 64,), {}),
    ("inspect_image", ("reg.example:5000/team/app:v1",), {}),
    ("history", ("sha256:" + "1" * 64,), {}),
    ("networks", (), {}),
    ("inspect_network", ("n1",), {}),
    ("inspect_swarm", (), {}),
    ("nodes", (), {}),
    ("exec_inspect", ("e1",), {}),
]


@pytest.mark.parametrize(("method", "args", "kwargs"), CALLS)
def test_same_requests_and_answers_as_the_sdk(tmp_path: Path, method: str, args: tuple[str, ...],
                                              kwargs: dict[str, Any]) -> None:
    with engine(tmp_path, {"/version": answer({"ApiVersion": "1.41", "Version": "20.10.24"})}) as server:
        sdk = docker.APIClient(base_url=server.url(), timeout=5)
        sdk_answer = getattr(sdk, method)(*args, **kwargs)
        sdk_target = server.targets()[-1]
        sdk.close()
        with EngineHTTP(server.url(), timeout=5) as ours:
            assert ours.api_version == "1.41"
            our_answer = getattr(ours, method)(*args, **kwargs)
        assert server.targets()[-1] == sdk_target
        assert our_answer == sdk_answer
        assert sdk_target.startswith("/v1.41/")


def test_keep_alive_over_length_and_chunked_bodies(tmp_path: Path) -> None:
    info = {"Name": "h", "Labels": ["x" * 300], "Swarm": {"LocalNodeState": "inactive"}}
    listed = [{"Id": f"{i:064x}", "Names": [f"/c{i}"]} for i in range(40)]
    routes: dict[str, Answer] = {"/v1.41/info": answer(info), "/v1.41/containers/json": answer(listed, chunked=True)}
    with engine(tmp_path, routes) as server, EngineHTTP(server.url(), timeout=5) as client:
        for _ in range(3):
            assert client.info() == info
            assert client.containers(all=True) == listed
        assert client.inspect_container("c1") == {"target": "/v1.41/containers/c1/json"}
        # The version was learnt from /_ping; everything went over the one connection.
        assert [n for n, _, _ in server.requests] == [0] * 8
        assert server.targets()[0] == "/_ping"
        assert {agent for _, _, agent in server.requests} == {"containerguard"}


def test_version_from_version_when_ping_has_no_header(tmp_path: Path) -> None:
    bare_ping = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
    with engine(tmp_path, {"/_ping": bare_ping, "/version": answer({"ApiVersion": "1.40"})}) as server:
        with EngineHTTP(server.url(), timeout=5) as client:
            assert client.api_version == "1.40"
            assert client.info() == {"target": "/v1.40/info"}
        assert server.targets() == ["/_ping", "/version", "/v1.40/info"]


# --- errors: the SDK's exceptions for error statuses -------------------------------------------------

def test_error_statuses_raise_the_sdk_errors(tmp_path: Path) -> None:
    routes: dict[str, Answer] = {
        "/v1.41/containers/gone/json": answer({"message": "No such container: gone"}, "404 Not Found"),
        "/v1.41/images/gone/json": answer({"message": "No such image: gone"}, "404 Not Found"),
        "/v1.41/info": answer({"message": "engine broke"}, "500 Internal Server Error", chunked=True),
        "/v1.41/swarm": answer(b"not a manager\n", "503 Service Unavailable"),
    }
    with engine(tmp_path, routes) as server, EngineHTTP(server.url(), timeout=5) as client:
        with pytest.raises(docker.errors.NotFound) as gone:
            client.inspect_container("gone")
        assert gone.value.status_code == 404
        assert gone.value.explanation == "No such container: gone"
        assert not isinstance(gone.value, docker.errors.ImageNotFound)
        with pytest.raises(docker.errors.ImageNotFound):
            client.inspect_image("gone")
        with pytest.raises(docker.errors.APIError) as broke:
            client.info()
        assert not isinstance(broke.value, docker.errors.NotFound)
        assert broke.value.status_code == 500
        assert str(broke.value) == ('500 Server Error for http+docker://localhost/v1.41/info: '
                                    'Internal Server Error ("engine broke")')
        with pytest.raises(docker.errors.APIError, match=r'503 Server Error.*\("not a manager"\)'):
            client.inspect_swarm()
        # An error answer is a whole answer: the connection goes on.
        assert client.networks() == {"target": "/v1.41/networks?filters=%7B%7D"}
        assert {n for n, _, _ in server.requests} == {0}


def test_ping_error_fails_the_constructor(tmp_path: Path) -> None:
    ping_500 = answer({"message": "engine broke"}, "500 Internal Server Error")
    with engine(tmp_path, {"/_ping": ping_500}) as server, pytest.raises(docker.errors.APIError) as err:
        EngineHTTP(server.url(), timeout=5)
    assert err.value.status_code == 500


# --- connections the daemon closes ------------------------------------------------------------------

def test_reconnects_when_the_daemon_closed_the_idle_connection(tmp_path: Path) -> None:
    with engine(tmp_path, close_after=2) as server, EngineHTTP(server.url(), timeout=5) as client:
        assert client.info() == {"target": "/v1.41/info"}  # the 2nd answer on connection 0, which then closes
        time.sleep(0.1)
        assert client.info() == {"target": "/v1.41/info"}
        assert client.networks()["target"].startswith("/v1.41/networks")
        assert [n for n, _, _ in server.requests] == [0, 0, 1, 1]


def test_connection_close_answers_open_a_new_connection(tmp_path: Path) -> None:
    def closing(target: str) -> bytes:
        return answer({"target": target}, close=True)

    with engine(tmp_path, {"/_ping": PING.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")},
                default=closing) as server, EngineHTTP(server.url(), timeout=5) as client:
        for _ in range(3):
            assert client.info() == {"target": "/v1.41/info"}
        assert [n for n, _, _ in server.requests] == [0, 1, 2, 3]


def test_reconnects_only_once(tmp_path: Path) -> None:
    calls = {"info": 0}

    def first_then_silence(target: str) -> bytes:
        calls["info"] += 1
        return echo(target) if calls["info"] == 1 else b"not http at all"

    with engine(tmp_path, {"/v1.41/info": first_then_silence}, close_after=2) as server:
        with EngineHTTP(server.url(), timeout=5) as client:
            client.info()
            with pytest.raises(EngineError, match="not HTTP"):
                client.info()
        assert server.connections == 2


def test_fresh_connection_closed_without_answer_is_not_retried(tmp_path: Path) -> None:
    with (engine(tmp_path, {"/_ping": HANG_UP}) as server,
          pytest.raises(EngineError, match="GET /_ping: the connection closed without an answer")):
        EngineHTTP(server.url(), timeout=5)
    assert server.connections == 1
    with (engine(tmp_path, {"/_ping": b"X"}) as server,
          pytest.raises(EngineError, match=r"GET /_ping: the answer is not HTTP \(BadStatusLine: X\)")):
        EngineHTTP(server.url(), timeout=5)
    assert server.connections == 1


# --- hostile or broken sockets ----------------------------------------------------------------------

def test_declared_oversized_body_is_refused_unread(tmp_path: Path) -> None:
    huge = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n[1,2,"
    with engine(tmp_path, {"/v1.41/info": huge}) as server, EngineHTTP(server.url(), timeout=5) as client:
        started = time.perf_counter()
        with pytest.raises(SourceError, match=r"answered GET /v1.41/info with more than 64 MiB: not read"):
            client.info()
        assert time.perf_counter() - started < 2
        # The connection with the unread body is dropped; the next call works on a new one.
        assert client.version() == {"target": "/v1.41/version"}
        assert server.connections == 2


@pytest.mark.parametrize("framing", ["chunked", "close-delimited"])
def test_undeclared_oversized_body_stops_at_the_cap(tmp_path: Path, framing: str) -> None:
    body = json.dumps(["x" * 100] * 50).encode()
    if framing == "chunked":
        reply = answer(body, chunked=True)
    else:
        reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body
    with engine(tmp_path, {"/v1.41/info": reply}) as server:
        with EngineHTTP(server.url(), timeout=5, max_response=len(body)) as client:
            assert client.info() == ["x" * 100] * 50  # exactly at the cap: read
        with (EngineHTTP(server.url(), timeout=5, max_response=len(body) - 1) as client,
              pytest.raises(SourceError, match=rf"with more than {len(body) - 1} bytes: not read")):
            client.info()


@pytest.mark.parametrize(("reply", "error", "message"), [
    (b"SSH-2.0-OpenSSH_9.2\r\n", EngineError, r"GET /v1.41/info: the answer is not HTTP \(BadStatusLine"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc", EngineError, "the answer broke off"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"a\":", EngineError,
     "the answer broke off .IncompleteRead"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n<html></html>", ValueError,
     "the answer to GET /v1.41/info is not JSON"),
])
def test_garbage_answers_are_clear_errors(tmp_path: Path, reply: bytes, error: type[Exception],
                                          message: str) -> None:
    with engine(tmp_path, {"/v1.41/info": reply}) as server, EngineHTTP(server.url(), timeout=5) as client:
        with pytest.raises(error, match=message) as err:
            client.info()
        assert "\n" not in str(err.value)
        assert client.networks()["target"].startswith("/v1.41/networks")  # usable afterwards


@pytest.mark.parametrize(("ping", "message"), [
    (PING.replace(b"1.41", b"../x"), r"no valid API version .*'\.\./x'"),
    (PING.replace(b"1.41", b"1.12"), "Engine API 1.12 is older than the oldest supported, 1.24"),
])
def test_bad_api_versions_are_refused(tmp_path: Path, ping: bytes, message: str) -> None:
    with engine(tmp_path, {"/_ping": ping}) as server, pytest.raises(EngineError, match=message):
        EngineHTTP(server.url(), timeout=5)


def test_silent_socket_times_out(tmp_path: Path) -> None:
    with engine(tmp_path, {"/v1.41/info": HANG}) as server, EngineHTTP(server.url(), timeout=0.3) as client:
        started = time.perf_counter()
        with pytest.raises(EngineError) as err:
            client.info()
        assert time.perf_counter() - started < 3
        assert TimeoutError in chain(err.value)


def test_no_socket_is_a_connection_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as err:
        EngineHTTP(f"unix://{tmp_path}/none.sock", timeout=1)
    assert FileNotFoundError in chain(err.value)


# --- through the collector --------------------------------------------------------------------------

def test_collector_uses_it_and_keeps_its_one_line_errors(tmp_path: Path) -> None:
    version = answer({"Version": "20.10.24", "ApiVersion": "1.41"})
    huge = b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n["
    with engine(tmp_path, {"/v1.41/version": version, "/v1.41/info": huge}) as server:
        with pytest.raises(SourceError, match=r"^unix://.*answered GET /v1.41/info with more than 64 MiB"):
            HostCollector(server.url(), fs_root=tmp_path, timeout=5).collect()
        assert server.targets() == ["/_ping", "/v1.41/version", "/v1.41/info"]
    with pytest.raises(SourceError, match=r"^cannot reach a Docker Engine at unix://.*none\.sock"):
        HostCollector(f"unix://{tmp_path}/none.sock", fs_root=tmp_path, timeout=5).collect()


def test_collector_reads_a_whole_engine_over_one_connection(tmp_path: Path) -> None:
    cid = "ab" * 32
    image = "sha256:" + "1" * 64
    routes: dict[str, Answer] = {
        "/v1.41/version": answer({"Version": "20.10.24", "ApiVersion": "1.41"}),
        "/v1.41/info": answer({"Name": "h", "DockerRootDir": "/var/lib/docker",
                               "Swarm": {"LocalNodeState": "inactive"}}),
        "/v1.41/containers/json": answer([{"Id": cid}, {"Id": "cd" * 32}]),
        f"/v1.41/containers/{cid}/json": answer({"Id": cid, "Name": "/web", "State": {"Running": False},
                                                 "ExecIDs": ["e1"]}, chunked=True),
        f"/v1.41/containers/{'cd' * 32}/json": answer({"message": "No such container"}, "404 Not Found"),
        "/v1.41/exec/e1/json": answer({"ID": "e1", "Privileged": True}),
        "/v1.41/images/json": answer([{"Id": image}]),
        f"/v1.41/images/{image}/json": answer({"Id": image, "RepoTags": ["web:1"]}),
        f"/v1.41/images/{image}/history": answer({"message": "gone"}, "500 Internal Server Error"),
        "/v1.41/networks": answer([{"Id": "n1", "Name": "bridge"}]),
        "/v1.41/networks/n1": answer({"Id": "n1", "Name": "bridge", "Containers": {}}),
    }
    with engine(tmp_path, routes) as server:
        snapshot = HostCollector(server.url(), fs_root=tmp_path, timeout=5).collect()
        assert server.connections == 1
    assert [c["Id"] for c in snapshot.containers] == [cid]  # removed meanwhile (404): not assessed
    assert snapshot.execs == {cid: ({"ID": "e1", "Privileged": True},)}
    assert snapshot.images[0].inspect["RepoTags"] == ["web:1"]
    assert "image history" in str(snapshot.images[0].history)  # a Skipped, with the reason
    assert snapshot.networks[0]["Containers"] == {}
    assert snapshot.version["Version"] == "20.10.24"
