"""Live-cluster collection through the official client, against a local HTTP server.

No kube-apiserver runs in this environment, so a stdlib ``http.server`` replays API responses shaped
as the real ones (typed ``*List`` bodies whose items carry no kind/apiVersion, ``metadata.continue``
paging, ``Status`` bodies for 403/404/401). The client, the kubeconfig loading, paging and error
handling are the real code paths."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from containerguard.errors import SourceError
from containerguard.models.k8s import FAIL
from containerguard.pipeline.k8s_audit import audit
from containerguard.sources.k8s_api import KINDS, collect_cluster

TOKEN = "test-token-abc"
PODS = [{"metadata": {"name": f"pod-{i}", "namespace": "shop", "uid": f"uid-{i}"},
         "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], "hostPID": i == 2}} for i in range(5)]


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class Api(BaseHTTPRequestHandler):
    """Answers list calls like kube-apiserver; records every request."""

    requests: ClassVar[list[tuple[str, dict[str, list[str]]]]] = []
    reject_token = False

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
        type(self).requests.append((url.path, query))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}" or type(self).reject_token:
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        if url.path == "/api/v1/pods":
            start = int(query.get("continue", ["0"])[0])
            limit = int(query["limit"][0])
            items = PODS[start:start + limit]
            meta = {"resourceVersion": "1234"}
            if start + limit < len(PODS):
                meta["continue"] = str(start + limit)
            self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items})
        elif url.path == "/apis/rbac.authorization.k8s.io/v1/clusterroles":
            self._send(403, _status(403, "Forbidden", 'clusterroles.rbac.authorization.k8s.io is forbidden: User '
                                    '"system:serviceaccount:default:scanner" cannot list resource "clusterroles"'))
        elif url.path == "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations":
            self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))
        elif url.path == "/api/v1/namespaces":
            self._send(200, {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
                             "items": [{"metadata": {"name": "shop"}}]})
        else:
            self._send(200, {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []})


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Api.requests = []
    Api.reject_token = False
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "local", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "scanner", "user": {"token": TOKEN}}],
        "contexts": [{"name": "test", "context": {"cluster": "local", "user": "scanner"}}],
    }))
    yield path
    server.shutdown()
    server.server_close()


def test_collects_every_kind_with_paging_and_records_forbidden(kubeconfig: Path) -> None:
    got = collect_cluster(str(kubeconfig), page_size=2)
    pods = [o for o in got.objects if o.kind == "Pod"]
    assert [p.name for p in pods] == [f"pod-{i}" for i in range(5)]
    assert all(p.api_version == "v1" and p.raw["kind"] == "Pod" and p.source.startswith("cluster:http://")
               for p in pods)
    pod_calls = [q for path, q in Api.requests if path == "/api/v1/pods"]
    assert [q.get("continue", [""])[0] for q in pod_calls] == ["", "2", "4"]
    assert all(q["limit"] == ["2"] for q in pod_calls)
    listed = {path for path, _ in Api.requests}
    assert len(listed) == len(KINDS)
    reasons = [s.reason for s in got.skipped]
    assert reasons[0].startswith("ClusterRole: forbidden (HTTP 403") and "cannot list" in reasons[0]
    assert reasons[1].startswith("MutatingWebhookConfiguration: not served")
    assert len(reasons) == 2


def test_live_objects_are_assessed(kubeconfig: Path) -> None:
    result = audit(collect_cluster(str(kubeconfig)), standard="pss-baseline")
    failing = {r.resource for r in result.results if r.status == FAIL}
    assert failing == {"Pod/shop/pod-2"}
    assert all(r.file == "" and r.line == 0 for r in result.results)


def test_rejected_credentials_are_an_error(kubeconfig: Path) -> None:
    Api.reject_token = True
    with pytest.raises(SourceError, match="credentials rejected"):
        collect_cluster(str(kubeconfig))


def test_unreachable_server_and_bad_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "x", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "x", "user": "u"}}]}))
    with pytest.raises(SourceError, match="cannot reach"):
        collect_cluster(str(path))
    with pytest.raises(SourceError, match="cannot load Kubernetes credentials"):
        collect_cluster(str(tmp_path / "missing"))
