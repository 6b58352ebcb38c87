"""The ValidatingAdmissionWebhook (``POST /k8s/admission/validate``) through FastAPI's TestClient.

Table-driven from the Pod Security Standards fixtures (tests/fixtures/k8s/pss): every fixture pod is
sent as an AdmissionReview v1 CREATE, as itself (Pods and workload kinds) and, for Pods, inside a
Deployment's template, and the webhook's
verdict must equal the verdict of ``scan k8s --standard S --exit-code N`` on the same pod (run here
through the CLI command itself) and the pod-security admission verdict recorded on the fixture."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from containerguard.api.app import create_app
from containerguard.cli.k8s import scan_k8s
from containerguard.config import Settings
from containerguard.jobs.config import ServerConfig
from containerguard.models.k8s import K8sObject
from containerguard.sources.k8s_manifests import read_paths

FIXTURES = Path(__file__).parents[2] / "fixtures/k8s/pss"
PODS = read_paths([str(FIXTURES)]).objects
PATH = "/k8s/admission/validate"
PREFIX = "test.containerguard.io/"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("admission")
    config = ServerConfig(settings=Settings(home=home), database_url=f"sqlite:///{home / 'cg.db'}")
    with TestClient(create_app(config, start_workers=False)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONTAINERGUARD_ADMISSION_STANDARD", "CONTAINERGUARD_ADMISSION_MODE",
                 "CONTAINERGUARD_ADMISSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def review(obj: dict[str, Any], kind: str = "Pod", group: str = "", operation: str = "CREATE",
           uid: str = "705ab4f5-6393-11e8-b7cc-42010a800002", **extra: Any) -> dict[str, Any]:
    """An AdmissionReview v1 as kube-apiserver sends it."""
    meta = obj.get("metadata") or {}
    version = str(obj.get("apiVersion") or "v1").rpartition("/")[2]
    request = {"uid": uid, "kind": {"group": group, "version": version, "kind": kind},
               "resource": {"group": group, "version": version, "resource": kind.lower() + "s"},
               "requestKind": {"group": group, "version": version, "kind": kind},
               "name": meta.get("name", ""), "namespace": meta.get("namespace", "default"), "operation": operation,
               "userInfo": {"username": "admin", "groups": ["system:authenticated"]},
               "object": obj if operation != "DELETE" else None, "oldObject": obj if operation == "DELETE" else None,
               "dryRun": False, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}} | extra
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def as_deployment(pod: K8sObject) -> dict[str, Any]:
    """The fixture pod as the template of a Deployment."""
    raw = pod.raw
    labels = {"app": pod.name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": pod.name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": dict(raw.get("metadata") or {}) | {"labels": labels}, "spec": raw.get("spec") or {}}}}


def cli_denies(manifest: dict[str, Any], standard: str, tmp_path: Path) -> bool:
    """The verdict of ``scan k8s --standard`` on ``manifest``: does it exit with --exit-code?"""
    path = tmp_path / "object.json"
    path.write_text(json.dumps(manifest))
    app = typer.Typer()
    app.command()(scan_k8s)
    result = CliRunner().invoke(app, [str(path), "--standard", standard, "-f", "json", "--exit-code", "3"],
                                standalone_mode=False, catch_exceptions=False)
    assert result.return_value in (0, 3)
    return bool(result.return_value == 3)


def post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post(PATH, content=json.dumps(body), headers={"Content-Type": "application/json", **headers})


CASES = [pytest.param(pod, level, id=f"{pod.name}-{level}") for pod in PODS for level in ("baseline", "restricted")]


@pytest.mark.parametrize(("pod", "level"), CASES)
def test_verdict_equals_scan_k8s(client: TestClient, pod: K8sObject, level: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    standard = f"pss-{level}"
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_STANDARD", standard)
    expected_deny = pod.metadata["annotations"][PREFIX + level] == "deny"
    pod_raw = dict(pod.raw)
    assert cli_denies(pod_raw, standard, tmp_path) == expected_deny
    group = pod.api_version.rpartition("/")[0]
    variants = [(pod_raw, pod.kind, group)]
    if pod.kind == "Pod":
        variants.append((as_deployment(pod), "Deployment", "apps"))
    for obj, kind, group in variants:
        response = post(client, review(obj, kind, group))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["apiVersion"] == "admission.k8s.io/v1" and body["kind"] == "AdmissionReview"
        answer = body["response"]
        assert answer["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
        assert answer["allowed"] is not expected_deny, (kind, answer)
        if expected_deny:
            assert answer["status"]["code"] == 403 and standard in answer["status"]["message"]
            assert answer["warnings"] and all(len(w) <= 256 for w in answer["warnings"])
            named = {c for c in pod.metadata["annotations"].get(PREFIX + "fails", "").split(",") if c}
            # The message names the failing checks (those of this level among the fixture's list).
            assert any(c in answer["status"]["message"] for c in named) or not named
        else:
            assert "warnings" not in answer and "status" not in answer


def test_warn_mode_admits_with_warnings(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    privileged = next(p for p in PODS if p.name == "privileged-init")
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_MODE", "warn")
    answer = post(client, review(dict(privileged.raw))).json()["response"]
    assert answer["allowed"] is True and "status" not in answer
    assert any("CG-K8S-PSS-003" in w and w.startswith("pss-baseline: ") for w in answer["warnings"])


@pytest.mark.parametrize(("kind", "group", "operation", "extra"), [
    ("Pod", "", "DELETE", {}),
    ("Pod", "", "CONNECT", {}),
    ("Pod", "", "UPDATE", {"subResource": "status"}),
    ("ConfigMap", "", "CREATE", {}),
    ("Widget", "example.com", "CREATE", {}),
])
def test_not_assessed_requests_are_allowed(client: TestClient, kind: str, group: str, operation: str,
                                           extra: dict[str, Any]) -> None:
    privileged = next(p for p in PODS if p.name == "privileged-init")
    answer = post(client, review(dict(privileged.raw), kind, group, operation, **extra)).json()["response"]
    assert answer == {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": True}


def test_ephemeral_container_update_is_assessed(client: TestClient) -> None:
    privileged = next(p for p in PODS if p.name == "privileged-init")
    body = review(dict(privileged.raw), operation="UPDATE", subResource="ephemeralcontainers")
    assert post(client, body).json()["response"]["allowed"] is False


@pytest.mark.parametrize("body", [
    "not json",
    [],
    {"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "u"}},
    {"apiVersion": "admission.k8s.io/v1", "kind": "Pod"},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"kind": {"kind": "Pod"}}},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u"}},
    {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
     "request": {"uid": "u", "kind": {"kind": "Pod"}, "operation": "CREATE"}},  # no object
])
def test_malformed_review_is_400(client: TestClient, body: Any) -> None:
    response = client.post(PATH, content=body if isinstance(body, str) else json.dumps(body),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


def test_token_required_when_configured(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = next(p for p in PODS if p.name == "restricted-ok")
    assert post(client, review(dict(ok.raw))).status_code == 200  # unauthenticated by default
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_TOKEN", "s3cret")
    assert post(client, review(dict(ok.raw))).status_code == 401
    assert post(client, review(dict(ok.raw)), Authorization="Bearer wrong").status_code == 401
    assert post(client, review(dict(ok.raw)), Authorization="Bearer s3cret").json()["response"]["allowed"] is True


def test_misconfigured_standard_or_mode_is_a_server_error(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = next(p for p in PODS if p.name == "restricted-ok")
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_STANDARD", "pss-nope")
    assert post(client, review(dict(ok.raw))).status_code == 500
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_STANDARD", "pss-restricted")
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_MODE", "audit")
    assert post(client, review(dict(ok.raw))).status_code == 500
