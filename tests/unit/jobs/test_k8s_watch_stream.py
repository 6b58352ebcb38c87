"""The watch side of the Kubernetes source (``sources.k8s_api``): list versions, WatchStream's protocol
handling and its shutdown from another thread.

No kube-apiserver runs in this environment: a stdlib HTTP server replays the API's watch protocol
(one JSON WatchEvent per line, chunked over HTTP/1.1 as the API server sends it, or close-delimited),
with Status bodies for 403/410. The official client and its configuration are the real code paths."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from containerguard.sources.k8s_api import (
    KINDS,
    WatchError,
    WatchExpired,
    WatchStream,
    client_from_dict,
    collect_cluster,
    list_kind,
)

DEPLOYMENT_KIND = next(k for k in KINDS if k.kind == "Deployment")
POD_KIND = next(k for k in KINDS if k.kind == "Pod")
TOKEN = "t0ken"
WEB = {"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "1201"},
       "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:1"}]}}}}


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode() + b"\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: ClassVar[dict[tuple[str, bool], Any]] = {}
    release = threading.Event()
    first_sent = threading.Event()

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        watching = query.get("watch") == ["true"]
        what = self.script.get((url.path, watching))
        if what is None:
            self._json(200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "77"}, "items": []})
        elif isinstance(what, int):
            reason = {403: "Forbidden", 410: "Expired"}[what]
            self._json(what, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                              "code": what, "message": f"{reason.lower()} for test"})
        elif isinstance(what, dict):
            self._json(200, what)
        elif what[0] == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for data in what[1]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if what[2] == "end":
                self.wfile.write(b"0\r\n\r\n")
            else:  # hold the stream open and quiet until released
                self.release.wait(10)
            self.close_connection = True
        else:  # close-delimited: no length, no chunking
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(what[1][0])
            self.wfile.flush()
            self.first_sent.set()
            self.release.wait(10)
            for data in what[1][1:]:
                self.wfile.write(data)
            self.close_connection = True


@pytest.fixture
def client() -> Iterator[Any]:
    Handler.script = {}
    Handler.release = threading.Event()
    Handler.first_sent = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [{"name": "x", "cluster": {"server": f"http://127.0.0.1:{httpd.server_port}"}}],
              "users": [{"name": "u", "user": {"token": TOKEN}}],
              "contexts": [{"name": "c", "context": {"cluster": "x", "user": "u"}}]}
    api = client_from_dict(config, pool_size=8)
    assert api.configuration.connection_pool_maxsize == 8
    yield api
    Handler.release.set()
    api.close()  # type: ignore[no-untyped-call]
    httpd.shutdown()
    httpd.server_close()


def test_events_bookmarks_and_error_codes(client: Any) -> None:
    Handler.script[("/apis/apps/v1/deployments", True)] = ("chunked", [
        line({"type": "ADDED", "object": {"kind": "Deployment", "apiVersion": "apps/v1", **WEB}}),
        line({"type": "BOOKMARK", "object": {"kind": "Deployment", "apiVersion": "apps/v1",
                                             "metadata": {"resourceVersion": "1300", "creationTimestamp": None}}})[:9],
        line({"type": "BOOKMARK", "object": {"kind": "Deployment", "apiVersion": "apps/v1",
                                             "metadata": {"resourceVersion": "1300", "creationTimestamp": None}}})[9:],
        line({"type": "FUTURE", "object": {"metadata": {}}}),  # a type a later API may add: ignored
        line({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                          "message": "etcd leader changed", "reason": "InternalError", "code": 500}}),
    ], "end")
    stream = WatchStream(client, DEPLOYMENT_KIND, "1200", timeout_seconds=30)
    got = []
    with pytest.raises(WatchError) as failed:
        for event in stream.events():
            got.append((event.type, event.kind, event.namespace, event.name, event.resource_version))
    assert got == [("ADDED", "Deployment", "shop", "web", "1201"), ("BOOKMARK", "Deployment", "", "", "1300")]
    assert failed.value.status == 500 and not isinstance(failed.value, WatchExpired)
    assert "etcd leader changed" in str(failed.value)


def test_expired_and_forbidden(client: Any) -> None:
    Handler.script[("/apis/apps/v1/deployments", True)] = 410
    with pytest.raises(WatchExpired):
        WatchStream(client, DEPLOYMENT_KIND, "5")
    Handler.script[("/apis/apps/v1/deployments", True)] = ("chunked", [line({"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "too old resource version: 5 (900)",
        "reason": "Expired", "code": 410}})], "end")
    with pytest.raises(WatchExpired):
        list(WatchStream(client, DEPLOYMENT_KIND, "5").events())
    Handler.script[("/api/v1/pods", True)] = 403
    with pytest.raises(WatchError) as forbidden:
        WatchStream(client, POD_KIND, "5")
    assert forbidden.value.status == 403
    Handler.script[("/api/v1/pods", True)] = ("chunked", [b"<html>proxy error</html>\n"], "end")
    with pytest.raises(WatchError, match="not JSON"):
        list(WatchStream(client, POD_KIND, "5").events())


def test_close_from_another_thread_ends_a_quiet_stream(client: Any) -> None:
    Handler.script[("/api/v1/pods", True)] = ("chunked", [], "hold")
    stream = WatchStream(client, POD_KIND, "10", timeout_seconds=300)
    done = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            list(stream.events())
        except BaseException as exc:  # the test reports it
            errors.append(exc)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.3)
    assert not done.is_set()  # blocked on the quiet stream
    started = time.monotonic()
    stream.close()
    stream.close()  # idempotent
    assert done.wait(2) and time.monotonic() - started < 1
    assert errors == [] and stream.closed


def test_a_stream_without_chunking_is_read_as_it_arrives(client: Any) -> None:
    Handler.script[("/api/v1/pods", True)] = ("plain", [
        line({"type": "ADDED", "object": {"metadata": {"name": "a", "namespace": "n", "resourceVersion": "11"}}}),
        line({"type": "DELETED", "object": {"metadata": {"name": "a", "namespace": "n", "resourceVersion": "12"}}}),
    ])
    events = WatchStream(client, POD_KIND, "10").events()
    first = next(events)  # arrives while the server still holds the rest back
    # The server marks the first line sent after its flush returns, which can come after we read it.
    assert Handler.first_sent.wait(5) and not Handler.release.is_set()
    assert (first.type, first.raw["kind"], first.raw["apiVersion"]) == ("ADDED", "Pod", "v1")
    Handler.release.set()
    assert [e.type for e in events] == ["DELETED"]


def test_list_versions(client: Any) -> None:
    Handler.script[("/apis/apps/v1/deployments", False)] = {
        "kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "1234"}, "items": [WEB]}
    Handler.script[("/apis/rbac.authorization.k8s.io/v1/clusterroles", False)] = 403
    Handler.script[("/api/v1/nodes", False)] = {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}
    versions: dict[str, str] = {}
    collected = collect_cluster(client=client, versions=versions)
    assert versions["Deployment"] == "1234" and versions["Pod"] == "77"
    assert versions["Node"] == ""  # listed, but no version to watch from: the watcher lists first
    assert "ClusterRole" not in versions and len(versions) == len(KINDS) - 1
    assert [o.name for o in collected.objects if o.kind == "Deployment"] == ["web"]
    items, version = list_kind(client, DEPLOYMENT_KIND)
    assert version == "1234" and items[0]["kind"] == "Deployment" and items[0]["apiVersion"] == "apps/v1"
    with pytest.raises(WatchError) as forbidden:
        list_kind(client, next(k for k in KINDS if k.kind == "ClusterRole"))
    assert forbidden.value.status == 403
