"""Clusters in the server: registration, scheduled and on-demand assessment, results per workload,
links to image assessments and the change history, through FastAPI's TestClient with real workers.

No kube-apiserver runs in this environment: a stdlib ``http.server`` replays Kubernetes API list
responses shaped like the real ones (typed ``*List`` bodies whose items carry no kind/apiVersion,
``metadata.continue`` paging, ``Status`` bodies for 401/403). The official client, the stored
credentials turned into a client, paging and error handling are the real code paths."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pgdb import throwaway_database
from sqlalchemy import select

from containerguard.api.app import create_app
from containerguard.config import load_settings
from containerguard.errors import ConfigError
from containerguard.jobs import clusters as cluster_jobs
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.store import clusters as repo
from containerguard.store.db import Store
from containerguard.store.images import ensure_image
from containerguard.store.tables import ClusterRow, utcnow
from containerguard.store.tokens import create_token

TOKEN = "sa-token-123"
REG = "127.0.0.1:5999"
DIGEST = "sha256:" + "ab" * 32
WEB_UID, RS_UID = "uid-deploy-web", "uid-rs-web"


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def deployment(host_network: bool) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "shop", "uid": WEB_UID},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"hostNetwork": host_network,
                         "containers": [{"name": "app", "image": f"{REG}/app:1.0"}]}}}}


def base_objects() -> dict[str, list[dict[str, Any]]]:
    """Per API path, the items the fake cluster lists (a Deployment, its ReplicaSet and Pod)."""
    rs = copy.deepcopy(deployment(True))
    rs["metadata"] = {"name": "web-7d4b9", "namespace": "shop", "uid": RS_UID, "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": WEB_UID, "controller": True}]}
    pod = {"metadata": {"name": "web-7d4b9-x1", "namespace": "shop", "uid": "uid-pod", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9", "uid": RS_UID, "controller": True}]},
        "spec": rs["spec"]["template"]["spec"],
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "app", "image": f"{REG}/app:1.0", "imageID": f"{REG}/app@{DIGEST}", "ready": True}]}}
    return {"/api/v1/namespaces": [{"metadata": {"name": "shop"}}],
            "/apis/apps/v1/deployments": [deployment(True)],
            "/apis/apps/v1/replicasets": [rs],
            "/api/v1/pods": [pod]}


class Api(BaseHTTPRequestHandler):
    """Answers list calls like kube-apiserver, from :attr:`objects`."""

    objects: ClassVar[dict[str, list[dict[str, Any]]]] = {}
    requests: ClassVar[list[str]] = []

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
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        type(self).requests.append(url.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        if url.path == "/apis/rbac.authorization.k8s.io/v1/clusterroles":
            self._send(403, _status(403, "Forbidden", 'clusterroles.rbac.authorization.k8s.io is forbidden: User '
                                    '"system:serviceaccount:cg:scanner" cannot list resource "clusterroles"'))
            return
        items = type(self).objects.get(url.path, [])
        start = int(query.get("continue", ["0"])[0])
        limit = int(query.get("limit", ["500"])[0])
        meta = {"resourceVersion": "42"} | ({"continue": str(start + limit)} if start + limit < len(items) else {})
        self._send(200, {"kind": "List", "apiVersion": "v1", "metadata": meta, "items": items[start:start + limit]})


@dataclass
class Server:
    client: TestClient
    admin: str
    reader: str
    ctx: JobContext
    api_url: str

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin}"}

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers(token))
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def post(self, path: str, body: Any = None, token: str | None = None) -> Any:
        return self.client.post(path, json=body, headers=self.headers(token))

    def kubeconfig(self, token: str = TOKEN) -> str:
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "fake", "cluster": {"server": self.api_url}}],
            "users": [{"name": "scanner", "user": {"token": token}}],
            "contexts": [{"name": "test", "context": {"cluster": "fake", "user": "scanner"}}]})


def wait(what: str, probe: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def fake_api() -> Iterator[str]:
    Api.objects = base_objects()
    Api.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path, fake_api: str) -> Iterator[Server]:
    if request.param == "sqlite":
        with _server(f"sqlite:///{tmp_path / 'cg.db'}", fake_api) as s:
            yield s
    else:
        with throwaway_database() as url, _server(url, fake_api) as s:
            yield s


class _server:
    """A running app on ``url`` (context manager, so both backends share the set-up)."""

    def __init__(self, url: str, api_url: str) -> None:
        self.url, self.api_url = url, api_url

    def __enter__(self) -> Server:
        config = ServerConfig(settings=load_settings(), database_url=self.url, workers=1, crawl_interval=0,
                              db_poll=0.5)
        self.store = Store(config.url)
        ctx = JobContext.create(config, self.store)
        self.client = TestClient(create_app(config, ctx))
        self.client.__enter__()
        with self.store.session() as s:
            admin, _ = create_token(s, "admin")
            reader, _ = create_token(s, "reader")
        return Server(self.client, admin, reader, ctx, self.api_url)

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(None, None, None)
        self.store.close()


def assessed(server: Server, cluster_id: int, after: str | None = None) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        doc: dict[str, Any] = server.get(f"/api/v1/clusters/{cluster_id}")
        done = doc["last_assessed"] and doc["last_assessed"] != after
        return doc if done or doc["last_error"] else None
    found: dict[str, Any] = wait("assessment", probe)
    return found


def register(app: Server, **body: Any) -> dict[str, Any]:
    response = app.post("/api/v1/clusters", body)
    assert response.status_code == 201, response.text
    doc: dict[str, Any] = response.json()
    return doc


def test_roles_and_validation(server: Server) -> None:
    assert server.client.get("/api/v1/clusters").status_code == 401
    assert server.get("/api/v1/clusters", token=server.reader) == {"items": [], "next": None}
    body = {"name": "c", "kubeconfig": server.kubeconfig()}
    assert server.post("/api/v1/clusters", body, token=server.reader).status_code == 403
    for bad in ({"name": "c"},  # neither kubeconfig nor server
                {"name": "c", "kubeconfig": server.kubeconfig(), "server": server.api_url},  # both
                {"name": "c", "server": "ftp://x"},
                {"name": "c", "kubeconfig": "- not a mapping"},
                {"name": "c", "kubeconfig": server.kubeconfig(), "context": "nope"},
                {"name": "c", "server": server.api_url, "token": "t", "ca_cert": "not pem"}):
        response = server.post("/api/v1/clusters", bad)
        assert response.status_code in (400, 422), (bad, response.text)
    created = register(server, **body)
    assert server.post("/api/v1/clusters", body).status_code == 400  # name taken
    assert server.client.delete(f"/api/v1/clusters/{created['id']}", headers=server.headers(server.reader)
                                ).status_code == 403
    assert server.post(f"/api/v1/clusters/{created['id']}/assess", token=server.reader).status_code == 403
    assert server.client.delete("/api/v1/clusters/999", headers=server.headers()).status_code == 404
    assert server.post("/api/v1/clusters/999/assess").status_code == 404


def test_registration_assesses_per_workload_and_links_images(server: Server) -> None:
    with server.ctx.store.session() as s:
        image = ensure_image(s, REG, "app", DIGEST)
        image.tags, image.health = ["1.0"], "Unhealthy"
        s.flush()
        image_id = image.id
    created = register(server, name="prod", kubeconfig=server.kubeconfig())
    assert created["server"] == server.api_url and created["credentials"] == "kubeconfig"
    assert "token" not in json.dumps(created).replace("credentials", "")  # no secret in the answer
    doc = assessed(server, created["id"])
    assert doc["last_error"] is None and doc["health"] == "Unhealthy"
    assert any(n.startswith("ClusterRole: forbidden (HTTP 403") for n in doc["notes"])
    with server.ctx.store.session() as s:  # secrets at rest are ciphertext
        row = s.scalars(select(ClusterRow)).one()
        assert TOKEN not in row.kubeconfig and row.kubeconfig

    failing = server.get(f"/api/v1/clusters/{created['id']}/assessments", token=server.reader,
                         status="Unhealthy")["items"]
    host_ns = [r for r in failing if r["name"] == "CG-K8S-PSS-002"]
    assert [r["resourceDetails"]["resource"] for r in host_ns] == ["Deployment/shop/web"]  # once, at the controller
    assert host_ns[0]["status"]["severity"] and "pss-baseline" in host_ns[0]["additionalData"]["standards"]
    assert "hostNetwork" in host_ns[0]["status"]["description"]
    everything = server.get(f"/api/v1/clusters/{created['id']}/assessments", limit=500)["items"]
    assert {r["status"]["code"] for r in everything} == {"Healthy", "Unhealthy"}
    assert not any(r["resourceDetails"]["kind"] in ("Pod", "ReplicaSet") for r in everything
                   if r["name"].startswith("CG-K8S-PSS-"))

    workloads = server.get(f"/api/v1/clusters/{created['id']}/workloads")["items"]
    assert [(w["kind"], w["name"], w["health"]) for w in workloads] == [("Deployment", "web", "Unhealthy")]
    container = workloads[0]["containers"][0]
    assert container["image"] == f"{REG}/app:1.0" and container["image_id"] == f"{REG}/app@{DIGEST}"
    assert [a["id"] for a in container["assessments"]] == [str(image_id)]
    assert container["assessments"][0]["health"] == "Unhealthy"

    events = server.get(f"/api/v1/clusters/{created['id']}/events")["items"]
    assert [e["kind"] for e in events] == ["assessed"] and events[0]["data"]["baseline"] is True


def test_on_demand_assessment_records_new_failures_and_fixes(server: Server) -> None:
    created = register(server, name="prod", server=server.api_url, token=TOKEN)
    assert created["credentials"] == "token"
    first = assessed(server, created["id"])
    assert first["last_error"] is None
    # The Deployment drops hostNetwork; a bare privileged pod appears.
    Api.objects["/apis/apps/v1/deployments"] = [deployment(False)]
    Api.objects["/apis/apps/v1/replicasets"] = []
    Api.objects["/api/v1/pods"] = [{"metadata": {"name": "debug", "namespace": "shop", "uid": "uid-debug"},
                                    "spec": {"containers": [{"name": "sh", "image": "busybox:1.36",
                                                             "securityContext": {"privileged": True}}]}}]
    assert server.post(f"/api/v1/clusters/{created['id']}/assess").status_code == 202
    assessed(server, created["id"], after=first["last_assessed"])
    events = server.get(f"/api/v1/clusters/{created['id']}/events")["items"]
    new = {(e["data"]["check_id"], e["data"]["resource"]) for e in events if e["kind"] == "new-failure"}
    fixed = {(e["data"]["check_id"], e["data"]["resource"]) for e in events if e["kind"] == "fixed"}
    assert ("CG-K8S-PSS-002", "Deployment/shop/web") in fixed
    assert any(check == "CG-K8S-PSS-003" or resource == "Pod/shop/debug" for check, resource in new)
    assert all(resource == "Pod/shop/debug" for _, resource in new)
    summary = [e for e in events if e["kind"] == "assessed"][-1]["data"]
    assert summary["baseline"] is False and len(summary["fixed"]) == len(fixed)
    workloads = {w["name"]: w["health"] for w in server.get(f"/api/v1/clusters/{created['id']}/workloads")["items"]}
    # web still fails other (Defender/CIS) checks, e.g. no resource limits: only host networking was fixed.
    assert workloads == {"web": "Unhealthy", "debug": "Unhealthy"}
    fixed_result = server.get(f"/api/v1/clusters/{created['id']}/assessments", check="CG-K8S-PSS-002",
                              resource="Deployment/shop/web")["items"]
    assert [r["status"]["code"] for r in fixed_result] == ["Healthy"]


def test_rejected_credentials_are_recorded_and_delete_removes_everything(server: Server) -> None:
    created = register(server, name="bad", kubeconfig=server.kubeconfig(token="wrong"))
    doc = assessed(server, created["id"])
    assert "credentials rejected" in doc["last_error"] and doc["health"] == "Pending"
    events = server.get(f"/api/v1/clusters/{created['id']}/events", kind="assess-failed")["items"]
    assert events and "401" in events[0]["message"]
    good = register(server, name="good", kubeconfig=server.kubeconfig())
    assessed(server, good["id"])
    assert server.client.delete(f"/api/v1/clusters/{good['id']}", headers=server.headers()).status_code == 204
    assert server.client.get(f"/api/v1/clusters/{good['id']}/workloads", headers=server.headers()).status_code == 404
    assert [c["name"] for c in server.get("/api/v1/clusters")["items"]] == ["bad"]


def test_schedule_claims_each_due_cluster_once_per_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from containerguard.store.db import migrate
    from containerguard.store.secrets import Cipher

    store = Store(f"sqlite:///{tmp_path / 'cg.db'}")
    migrate(store.engine)
    cipher = Cipher.for_settings(load_settings())
    with store.session() as s:
        fast = repo.add_cluster(s, cipher, "fast", server="https://10.0.0.1:6443", token="t", interval=60).id
        slow = repo.add_cluster(s, cipher, "slow", server="https://10.0.0.2:6443", token="t").id
    now = utcnow() + timedelta(seconds=1)
    with store.sessions() as s:
        assert sorted(repo.claim_due(s, 900, now)) == sorted([fast, slow])
    with store.sessions() as s:
        assert repo.claim_due(s, 900, now) == []  # claimed: not due again in the same slot
        assert repo.claim_due(s, 900, now + timedelta(seconds=61)) == [fast]
        assert sorted(repo.claim_due(s, 900, now + timedelta(seconds=901))) == sorted([fast, slow])
    monkeypatch.setenv("CONTAINERGUARD_CLUSTER_INTERVAL", "120")
    assert cluster_jobs.cluster_interval() == 120
    monkeypatch.delenv("CONTAINERGUARD_CLUSTER_INTERVAL")
    assert cluster_jobs.cluster_interval() == 900
    for bad in ("soon", "0"):
        monkeypatch.setenv("CONTAINERGUARD_CLUSTER_INTERVAL", bad)
        with pytest.raises(ConfigError):
            cluster_jobs.cluster_interval()
    store.close()
