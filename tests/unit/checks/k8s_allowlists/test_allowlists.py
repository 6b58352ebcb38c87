"""The server's Kubernetes allow-lists come from its environment, and the admission webhook applies them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from containerguard.api.app import create_app
from containerguard.checks.k8s.allowlists import config_from_env
from containerguard.checks.k8s.base import K8sCheckConfig
from containerguard.config import Settings
from containerguard.errors import ConfigError
from containerguard.jobs.config import ServerConfig


def test_unset_is_empty() -> None:
    assert config_from_env({}) == K8sCheckConfig()


def test_lists_are_parsed() -> None:
    env = {"CONTAINERGUARD_K8S_ALLOWED_REGISTRIES": r"registry\.example\.com/, ghcr\.io/acme/",
           "CONTAINERGUARD_K8S_ALLOWED_PORTS": "443, 8443", "CONTAINERGUARD_K8S_ALLOWED_HOST_PATHS": "/var/log",
           "CONTAINERGUARD_K8S_ALLOWED_HOST_PORTS": "9100",
           "CONTAINERGUARD_K8S_ALLOWED_CAPABILITIES": "net_bind_service"}
    assert config_from_env(env) == K8sCheckConfig(
        allowed_registries=(r"registry\.example\.com/", r"ghcr\.io/acme/"), allowed_service_ports=(443, 8443),
        allowed_host_paths=("/var/log",), allowed_host_ports=(9100,), allowed_capabilities=("NET_BIND_SERVICE",))


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PORTS", "443,https", "'https' is not a port number"),
    ("HOST_PORTS", "70000", "'70000' is not a port number"),
    ("REGISTRIES", "registry(", "'registry(' is not a regular expression"),
])
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"CONTAINERGUARD_K8S_ALLOWED_{name}: {message}".replace("(", r"\(")):
        config_from_env({f"CONTAINERGUARD_K8S_ALLOWED_{name}": value})


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("CONTAINERGUARD_ADMISSION_STANDARD", "defender")
    monkeypatch.delenv("CONTAINERGUARD_ADMISSION_MODE", raising=False)
    monkeypatch.delenv("CONTAINERGUARD_ADMISSION_TOKEN", raising=False)
    config = ServerConfig(settings=Settings(home=tmp_path), database_url=f"sqlite:///{tmp_path / 'cg.db'}")
    with TestClient(create_app(config, start_workers=False)) as c:
        yield c


def review(image: str) -> dict[str, Any]:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"containers": [{"name": "web", "image": image}]}}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "name": "web", "namespace": "shop",
        "operation": "CREATE", "userInfo": {"username": "dev"}, "object": pod, "dryRun": False}}


def messages(client: TestClient, image: str) -> str:
    answer = client.post("/k8s/admission/validate", content=json.dumps(review(image)),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    response = answer.json()["response"]
    return json.dumps(response.get("status", {})) + json.dumps(response.get("warnings", []))


def test_admission_applies_the_registry_allow_list(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINERGUARD_K8S_ALLOWED_REGISTRIES", r"registry\.example\.com/")
    assert "CG-K8S-DEF-002" in messages(client, "docker.io/library/nginx:1.25")
    assert "CG-K8S-DEF-002" not in messages(client, "registry.example.com/shop/web:1.0")
    monkeypatch.delenv("CONTAINERGUARD_K8S_ALLOWED_REGISTRIES")
    assert "CG-K8S-DEF-002" not in messages(client, "docker.io/library/nginx:1.25")  # no list: check not run
