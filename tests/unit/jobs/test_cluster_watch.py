"""Continuous cluster posture: the server watches each registered cluster and re-assesses it soon
after a relevant change, without waiting for the schedule.

No kube-apiserver runs in this environment. A stdlib HTTP/1.1 server replays the API's list and
watch protocol: typed lists carrying ``metadata.resourceVersion``, and for ``?watch=true`` a chunked
stream of one JSON ``WatchEvent`` per line (``{"type":"MODIFIED","object":{...full Deployment...}}``,
BOOKMARKs carrying only a resourceVersion, ``ERROR`` events with a ``Status`` object, HTTP 403/410
``Status`` answers), ending cleanly or dropping the connection when a test asks. The official client,
the stored credentials, the watcher threads, the debounce, the store and the scheduler are the real
code paths; the schedule is left at 15 minutes, so any re-assessment seen here came from a watch."""

from __future__ import annotations

import copy
import json
import queue
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pgdb import throwaway_database

from containerguard.api.app import create_app
from containerguard.config import load_settings
from containerguard.jobs import cluster_watch
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.store.db import Store
from containerguard.store.tokens import create_token

TOKEN = "sa-token-watch"
DEPLOYMENTS = "/apis/apps/v1/deployments"
REPLICASETS = "/apis/apps/v1/replicasets"
PODS = "/api/v1/pods"
INGRESSES = "/apis/networking.k8s.io/v1/ingresses"
WEB_UID, RS_UID = "5f0c1f6e-3b1a-4f7e-9d62-0c2a7e9b1d44", "a2e4c6b8-1d3f-4a5b-8c7d-9e0f1a2b3c4d"
KIND_OF = {DEPLOYMENTS: ("Deployment", "apps/v1"), REPLICASETS: ("ReplicaSet", "apps/v1"), PODS: ("Pod", "v1"),
           "/api/v1/namespaces": ("Namespace", "v1"),
           "/apis/networking.k8s.io/v1/networkpolicies": ("NetworkPolicy", "networking.k8s.io/v1")}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def pod_spec(privileged: bool = False) -> dict[str, Any]:
    """A hardened pod spec (passes every check that runs without configuration), or its privileged variant."""
    security: dict[str, Any] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}}
    if privileged:
        security = {"privileged": True, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    return {"automountServiceAccountToken": False, "serviceAccountName": "web", "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always", "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "app", "image": "registry.example.com/shop/web:1.4.2",
                            "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"},
                                          "requests": {"cpu": "100m", "memory": "128Mi"}},
                            "securityContext": security, "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"}]}


def deployment(privileged: bool = False, replicas: int = 2, ready: int = 2) -> dict[str, Any]:
    """``shop/web`` as the API returns it."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": WEB_UID, "generation": 1,
                         "creationTimestamp": "2024-05-02T10:11:12Z", "labels": {"app": "web"},
                         "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": replicas, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                     "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec(privileged)}},
            "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready,
                       "availableReplicas": ready, "updatedReplicas": replicas}}


def owned_pod(n: int, phase: str = "Running") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"web-7d4b9c-{n:05d}", "namespace": "shop", "uid": f"uid-web-pod-{n}",
                         "labels": {"app": "web", "pod-template-hash": "7d4b9c"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c",
                                              "uid": RS_UID, "controller": True, "blockOwnerDeletion": True}]},
            "spec": pod_spec() | {"nodeName": "worker-1"}, "status": {"phase": phase}}


def bare_pod(name: str, privileged: bool = False) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", "labels": {"run": name}},
            "spec": pod_spec(privileged), "status": {"phase": "Pending"}}


def base_objects() -> dict[str, list[dict[str, Any]]]:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "web-7d4b9c", "namespace": "shop", "uid": RS_UID, "labels": {"app": "web"},
                       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                            "uid": WEB_UID, "controller": True, "blockOwnerDeletion": True}]},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec()}},
          "status": {"replicas": 2}}
    return {"/api/v1/namespaces": [{"metadata": {"name": "shop", "uid": "uid-ns-shop"},
                                    "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}],
            "/apis/networking.k8s.io/v1/networkpolicies": [
                {"metadata": {"name": "default-deny", "namespace": "shop", "uid": "uid-np"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}],
            DEPLOYMENTS: [deployment()], REPLICASETS: [rs], PODS: [owned_pod(0), owned_pod(1)]}


@dataclass
class Watch:
    """A watch request the fake API received."""

    path: str
    query: dict[str, list[str]]

    @property
    def version(self) -> str:
        return self.query.get("resourceVersion", [""])[0]


class FakeApi:
    """The fake cluster's state: objects per collection path, one global resourceVersion, and per
    path the actions the open watch performs next (send an event line, end, drop, 410)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rv = 1000
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        for path, items in base_objects().items():
            for item in items:
                self._store(path, item)
        self.lists: list[tuple[str, str]] = []  # (path, resourceVersion answered)
        self.watches: list[Watch] = []
        self.actions: dict[str, queue.Queue[tuple[str, Any]]] = {}
        self.forbidden_watch: set[str] = set()
        self.gone_versions: set[str] = set()
        self.open_watches = 0
        self.closing = threading.Event()

    def _store(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        meta = obj["metadata"]
        self.objects.setdefault(path, {})[(meta.get("namespace", ""), meta["name"])] = obj
        return obj

    def queue(self, path: str) -> queue.Queue[tuple[str, Any]]:
        with self.lock:
            return self.actions.setdefault(path, queue.Queue())

    def change(self, path: str, obj: dict[str, Any], event: str = "MODIFIED", *, announce: bool = True,
               split: bool = False) -> str:
        """Store ``obj`` (or delete it) and, with ``announce``, send the watch event; its resourceVersion."""
        with self.lock:
            if event == "DELETED":
                meta = obj["metadata"]
                old = self.objects[path].pop((meta.get("namespace", ""), meta["name"]))
                self.rv += 1
                stored = copy.deepcopy(old)
                stored["metadata"]["resourceVersion"] = str(self.rv)
            else:
                stored = self._store(path, obj)
        if announce:
            self.queue(path).put(("split" if split else "event", {"type": event, "object": stored}))
        return str(stored["metadata"]["resourceVersion"])

    def bookmark(self, path: str) -> str:
        kind, api_version = KIND_OF[path]
        with self.lock:
            self.rv += 1
            version = str(self.rv)
        self.queue(path).put(("event", {"type": "BOOKMARK", "object": {
            "kind": kind, "apiVersion": api_version,
            "metadata": {"resourceVersion": version, "creationTimestamp": None},
            "spec": {"containers": None} if kind == "Pod" else {}, "status": {}}}))
        return version

    def watches_of(self, path: str) -> list[Watch]:
        with self.lock:
            return [w for w in self.watches if w.path == path]


class Handler(BaseHTTPRequestHandler):
    """kube-apiserver's list and watch endpoints over HTTP/1.1 (chunked watch streams)."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        api = self.server.api
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        if url.path == "/apis/rbac.authorization.k8s.io/v1/clusterroles":
            self._send(403, _status(403, "Forbidden", 'clusterroles.rbac.authorization.k8s.io is forbidden: User '
                                    '"system:serviceaccount:cg:scanner" cannot list resource "clusterroles"'))
            return
        if query.get("watch", [""])[0] in ("true", "1"):
            self._watch(api, url.path, query)
            return
        with api.lock:
            items = list(api.objects.get(url.path, {}).values())
            version = str(api.rv)
            api.lists.append((url.path, version))
        kind, api_version = KIND_OF.get(url.path, ("", "v1"))
        self._send(200, {"kind": f"{kind}List" if kind else "List", "apiVersion": api_version,
                         "metadata": {"resourceVersion": version}, "items": items})

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _client_gone(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True

    def _watch(self, api: FakeApi, path: str, query: dict[str, list[str]]) -> None:
        with api.lock:
            api.watches.append(Watch(path, query))
        if path in api.forbidden_watch:
            self._send(403, _status(403, "Forbidden", f'{path.rsplit("/", 1)[-1]} is forbidden: User '
                                    '"system:serviceaccount:cg:scanner" cannot watch resource'))
            return
        if query.get("resourceVersion", [""])[0] in api.gone_versions:
            self._send(410, _status(410, "Expired", "too old resource version"))
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        actions = api.queue(path)
        with api.lock:
            api.open_watches += 1
        try:
            while not api.closing.is_set() and not self._client_gone():
                try:
                    action, payload = actions.get(timeout=0.05)
                except queue.Empty:
                    continue
                line = json.dumps(payload).encode() + b"\n" if payload is not None else b""
                if action == "event":
                    self._chunk(line)
                elif action == "split":  # one event across two chunks
                    self._chunk(line[:17])
                    self._chunk(line[17:])
                elif action == "expire":  # what the API sends once the version was compacted away
                    self._chunk(json.dumps({"type": "ERROR", "object": _status(
                        410, "Expired", f"too old resource version: {query['resourceVersion'][0]} ({api.rv})")})
                        .encode() + b"\n")
                elif action == "end":  # timeoutSeconds is up: a clean end of the stream
                    self.wfile.write(b"0\r\n\r\n")
                    return
                elif action == "drop":  # the connection breaks mid-stream
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
        except OSError:
            pass
        finally:
            with api.lock:
                api.open_watches -= 1
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeApi


def wait(what: str, probe: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class App:
    client: TestClient
    admin: str
    api: FakeApi
    url: str
    running: bool = True

    def stop(self) -> None:
        """Stop the server (its lifespan stops the dispatcher and with it the watches)."""
        if self.running:
            self.running = False
            self.client.__exit__(None, None, None)

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.admin}"})
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def events(self, cluster_id: int, kind: str = "") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(f"/api/v1/clusters/{cluster_id}/events", kind=kind, limit=500)["items"]
        return items

    def workloads(self, cluster_id: int) -> dict[str, str]:
        items = self.get(f"/api/v1/clusters/{cluster_id}/workloads", limit=500)["items"]
        return {w["name"]: w["health"] for w in items}

    def register(self) -> int:
        """Register the fake cluster; returns its id once assessed and watched from the list's version."""
        seen = len(self.api.watches_of(DEPLOYMENTS))
        response = self.client.post("/api/v1/clusters", json={"name": "prod", "server": self.url, "token": TOKEN},
                                    headers={"Authorization": f"Bearer {self.admin}"})
        assert response.status_code == 201, response.text
        cluster_id = int(response.json()["id"])
        wait("the first assessment", lambda: self.events(cluster_id, "assessed"))
        listed = dict(self.api.lists)  # what the assessment's lists answered
        watch = wait("the deployments watch", lambda: self.api.watches_of(DEPLOYMENTS)[seen:])[0]
        assert watch.version == listed[DEPLOYMENTS]  # from the assessment's own list, not a fresh one
        assert watch.query.get("allowWatchBookmarks") == ["true"]
        wait("every watch open", lambda: self.api.open_watches >= 15)
        return cluster_id

    def assessments(self, cluster_id: int) -> list[dict[str, Any]]:
        return self.events(cluster_id, "assessed")


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeApi, str]]:
    api = FakeApi()
    httpd = _Server(("127.0.0.1", 0), Handler)
    httpd.api = api
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield api, f"http://127.0.0.1:{httpd.server_port}"
    api.closing.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cg.db'}"
    else:
        with throwaway_database() as url:
            yield url


@pytest.fixture
def app(backend: str, fake_api: tuple[FakeApi, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("CONTAINERGUARD_CLUSTER_INTERVAL", "900")
    monkeypatch.setenv("CONTAINERGUARD_WATCH_DEBOUNCE", "0.5")
    config = ServerConfig(settings=load_settings(), database_url=backend, workers=1, crawl_interval=0, db_poll=0.5)
    store = Store(config.url)
    ctx = JobContext.create(config, store)
    client = TestClient(create_app(config, ctx))
    client.__enter__()
    with store.session() as s:
        admin, _ = create_token(s, "admin")
    api, url = fake_api
    running = App(client, admin, api, url)
    try:
        yield running
    finally:
        running.stop()
        store.close()


def watch_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.is_alive() and t.name.startswith(("cg-watch-", "cg-cluster-watch"))]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_privileged_deployment_is_assessed_on_its_watch_event(app: App) -> None:
    cluster_id = app.register()
    assert app.workloads(cluster_id) == {"web": "Healthy"}
    before = app.get(f"/api/v1/clusters/{cluster_id}")
    assert before["last_error"] is None and before["health"] == "Healthy"

    started = time.monotonic()
    app.api.change(DEPLOYMENTS, deployment(privileged=True))
    wait("the watch-triggered assessment", lambda: len(app.assessments(cluster_id)) == 2, timeout=10)
    assert time.monotonic() - started < 8  # seconds, not the 15-minute schedule

    assert app.workloads(cluster_id) == {"web": "Unhealthy"}
    events = app.events(cluster_id)
    kinds = [e["kind"] for e in events]
    assert kinds.index("watch-triggered") < len(kinds) - 1 - kinds[::-1].index("assessed")
    (trigger,) = [e for e in events if e["kind"] == "watch-triggered"]
    assert trigger["message"] == "watch: Deployment shop/web MODIFIED"
    assert trigger["data"] == {"triggers": ["watch: Deployment shop/web MODIFIED"], "changes": 1}
    new = {(e["data"]["check_id"], e["data"]["resource"]) for e in events if e["kind"] == "new-failure"}
    assert ("CG-K8S-PSS-003", "Deployment/shop/web") in new
    failing = app.get(f"/api/v1/clusters/{cluster_id}/assessments", status="Unhealthy",
                      resource="Deployment/shop/web")["items"]
    assert "privileged" in " ".join(r["status"]["description"] for r in failing)


def test_a_burst_of_changes_is_one_assessment_and_noise_is_none(app: App) -> None:
    cluster_id = app.register()
    # Noise first: a scale, status updates, controlled pods coming and going, bookmarks.
    app.api.change(DEPLOYMENTS, deployment(replicas=5, ready=2))
    app.api.change(DEPLOYMENTS, deployment(replicas=5, ready=5))
    for n in range(2, 32):
        app.api.change(PODS, owned_pod(n, phase="Pending"), "ADDED")
        app.api.change(PODS, owned_pod(n))
    app.api.bookmark(PODS)
    time.sleep(0.5 * 4)  # several debounce windows
    assert len(app.assessments(cluster_id)) == 1 and not app.events(cluster_id, "watch-triggered")

    # 100 bare pods in quick succession (e.g. a batch tool creating pods): one assessment.
    for n in range(100):
        app.api.change(PODS, bare_pod(f"task-{n:03d}"), "ADDED")
    wait("the watch-triggered assessment", lambda: len(app.assessments(cluster_id)) == 2, timeout=10)
    time.sleep(0.5 * 4)
    assert len(app.assessments(cluster_id)) == 2
    (trigger,) = app.events(cluster_id, "watch-triggered")
    assert trigger["message"] == "watch: Pod shop/task-000 ADDED (+99 more)"
    assert trigger["data"]["changes"] == 100 and len(trigger["data"]["triggers"]) == cluster_watch.MAX_TRIGGERS
    assert set(app.workloads(cluster_id)) == {"web"} | {f"task-{n:03d}" for n in range(100)}


@pytest.mark.parametrize("how", ["error-event", "http-410"])
def test_expired_version_relists_and_finds_what_the_gap_hid(app: App, how: str) -> None:
    cluster_id = app.register()
    first = app.api.watches_of(DEPLOYMENTS)[-1]
    # The change happens while the watch cannot report it (history compacted): only a relist shows it.
    app.api.change(DEPLOYMENTS, deployment(privileged=True), announce=False)
    lists_before = len(app.api.lists)
    if how == "error-event":
        app.api.queue(DEPLOYMENTS).put(("expire", None))
    else:
        app.api.gone_versions.add(first.version)
        app.api.queue(DEPLOYMENTS).put(("end", None))  # the reconnect from the old version gets HTTP 410
    wait("a relist of deployments", lambda: any(p == DEPLOYMENTS for p, _ in app.api.lists[lists_before:]))
    relisted = next(v for p, v in app.api.lists[lists_before:] if p == DEPLOYMENTS)
    resumed = wait("a watch from the relist's version",
                   lambda: [w for w in app.api.watches_of(DEPLOYMENTS) if w.version == relisted])
    assert resumed and int(relisted) > int(first.version)
    wait("the assessment of the gap", lambda: len(app.assessments(cluster_id)) == 2, timeout=10)
    (trigger,) = app.events(cluster_id, "watch-triggered")
    assert trigger["message"] == "watch: Deployment shop/web MODIFIED (relisted after 410 Gone)"
    assert app.workloads(cluster_id) == {"web": "Unhealthy"}


def test_dropped_connection_reconnects_from_the_last_version(app: App) -> None:
    cluster_id = app.register()
    watches_before = len(app.api.watches_of(PODS))
    version = app.api.change(PODS, bare_pod("debug", privileged=True), "ADDED", split=True)
    app.api.queue(PODS).put(("drop", None))
    again = wait("a new pods watch", lambda: app.api.watches_of(PODS)[watches_before:])
    assert again[0].version == version  # resumed after the last event it read, nothing replayed or lost
    wait("the assessment", lambda: len(app.assessments(cluster_id)) == 2, timeout=10)
    assert app.events(cluster_id, "watch-triggered")[0]["message"] == "watch: Pod shop/debug ADDED"
    assert app.workloads(cluster_id)["debug"] == "Unhealthy"
    # A bookmark moves the resume point; a clean end (timeoutSeconds) reconnects from there at once.
    mark = app.api.bookmark(PODS)
    time.sleep(0.2)
    app.api.queue(PODS).put(("end", None))
    assert wait("a watch from the bookmark", lambda: [w for w in app.api.watches_of(PODS) if w.version == mark])
    assert len(app.assessments(cluster_id)) == 2


def test_forbidden_watch_skips_that_kind_and_says_so(app: App) -> None:
    app.api.forbidden_watch.add(INGRESSES)
    cluster_id = app.register()
    (note,) = wait("the note", lambda: app.events(cluster_id, "watch-note"))
    assert note["message"].startswith("watch: Ingress: forbidden (HTTP 403)")
    time.sleep(1.5)  # well past the first backoff: no retry of a forbidden kind
    assert len(app.api.watches_of(INGRESSES)) == 1
    # ClusterRoles could not even be listed: never watched.
    assert not app.api.watches_of("/apis/rbac.authorization.k8s.io/v1/clusterroles")
    # Other kinds are still watched.
    app.api.change(PODS, bare_pod("shell", privileged=True), "ADDED")
    wait("the assessment", lambda: len(app.assessments(cluster_id)) == 2, timeout=10)


def test_watches_end_when_the_cluster_is_deleted_and_when_the_server_stops(app: App) -> None:
    cluster_id = app.register()
    assert len([t for t in watch_threads() if t.startswith(f"cg-watch-{cluster_id}-")]) >= 15
    response = app.client.delete(f"/api/v1/clusters/{cluster_id}", headers={"Authorization": f"Bearer {app.admin}"})
    assert response.status_code == 204
    wait("the watch connections closed", lambda: app.api.open_watches == 0)
    wait("the watch threads gone", lambda: not [t for t in watch_threads() if t.startswith("cg-watch-")])

    app.register()  # registered again (SQLite may give it the same id): watched again, then the server stops
    assert app.api.open_watches >= 15
    started = time.monotonic()
    app.stop()
    assert time.monotonic() - started < 10
    assert watch_threads() == []
    wait("the watch connections closed", lambda: app.api.open_watches == 0, timeout=5)


def test_a_cluster_registered_again_under_the_same_id_gets_fresh_watches(app: App) -> None:
    first = app.register()
    response = app.client.delete(f"/api/v1/clusters/{first}", headers={"Authorization": f"Bearer {app.admin}"})
    assert response.status_code == 204
    app.api.change(DEPLOYMENTS, deployment(privileged=True), announce=False)  # only the new lists show it
    second = app.register()  # at once: the old watches may still run (SQLite reuses the id)
    wait("the old watches closed, the new ones open", lambda: 15 <= app.api.open_watches <= 19, timeout=15)
    time.sleep(cluster_watch.SYNC + 1)  # a full sync later: still one set of watches
    assert 15 <= app.api.open_watches <= 19
    app.api.change(PODS, bare_pod("shell", privileged=True), "ADDED")
    wait("the new cluster re-assessed", lambda: len(app.assessments(second)) == 2, timeout=10)
    assert app.workloads(second) == {"web": "Unhealthy", "shell": "Unhealthy"}


# -- the pieces, without a server --------------------------------------------------------------------

def test_what_counts_as_a_change() -> None:
    known: dict[tuple[str, str], str] = {}
    web = deployment()
    assert cluster_watch.apply_event("Deployment", "ADDED", web, known) == "watch: Deployment shop/web ADDED"
    assert cluster_watch.apply_event("Deployment", "MODIFIED", web, known) is None  # same content
    scaled = deployment(replicas=9, ready=3)
    scaled["metadata"] |= {"resourceVersion": "2002", "generation": 4,
                           "managedFields": [{"manager": "kubectl", "operation": "Update"}]}
    assert cluster_watch.apply_event("Deployment", "MODIFIED", scaled, known) is None
    assert (cluster_watch.apply_event("Deployment", "MODIFIED", deployment(privileged=True), known)
            == "watch: Deployment shop/web MODIFIED")
    assert cluster_watch.apply_event("Pod", "ADDED", owned_pod(3), known) is None
    assert cluster_watch.apply_event("Pod", "DELETED", owned_pod(3), known) is None
    assert cluster_watch.apply_event("Namespace", "ADDED", {"metadata": {"name": "ops"}}, known) == \
        "watch: Namespace ops ADDED"
    adopted = bare_pod("p")
    adopted["metadata"]["ownerReferences"] = owned_pod(1)["metadata"]["ownerReferences"]
    assert cluster_watch.apply_event("Pod", "ADDED", bare_pod("p"), known) == "watch: Pod shop/p ADDED"
    assert cluster_watch.apply_event("Pod", "MODIFIED", adopted, known) == "watch: Pod shop/p MODIFIED"
    assert cluster_watch.apply_event("Deployment", "DELETED", web, known) == "watch: Deployment shop/web DELETED"
    assert cluster_watch.apply_event("Deployment", "DELETED", web, known) is None

    before = cluster_watch.fingerprints("Pod", [bare_pod("a"), bare_pod("b"), owned_pod(1)])
    after = cluster_watch.fingerprints("Pod", [bare_pod("a", privileged=True), bare_pod("c"), owned_pod(2)])
    assert sorted(cluster_watch.diff("Pod", before, after)) == [
        "watch: Pod shop/a MODIFIED", "watch: Pod shop/b DELETED", "watch: Pod shop/c ADDED"]


def test_debounce_window() -> None:
    pending = cluster_watch._Pending(0.2)
    assert pending.due() is None
    pending.add(["a"])
    time.sleep(0.1)
    pending.add(["b"])
    assert pending.due() is None  # still busy
    time.sleep(0.25)
    assert pending.due() == (["a", "b"], 2)
    assert pending.due() is None
    # A change every 0.1 s never leaves 0.2 s of quiet: the window still closes at 6 x 0.2 s.
    started = time.monotonic()
    while (due := pending.due()) is None:
        pending.add(["x"])
        time.sleep(0.1)
        assert time.monotonic() - started < 3
    assert 1.1 <= time.monotonic() - started <= 2 and due[1] >= 10


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from containerguard.errors import ConfigError

    assert cluster_watch.watch_debounce() == cluster_watch.DEFAULT_DEBOUNCE and cluster_watch.watch_enabled()
    monkeypatch.setenv("CONTAINERGUARD_WATCH_DEBOUNCE", "2.5")
    assert cluster_watch.watch_debounce() == 2.5
    for bad in ("soon", "0"):
        monkeypatch.setenv("CONTAINERGUARD_WATCH_DEBOUNCE", bad)
        with pytest.raises(ConfigError):
            cluster_watch.watch_debounce()
    monkeypatch.setenv("CONTAINERGUARD_CLUSTER_WATCH", "off")
    assert not cluster_watch.watch_enabled()
