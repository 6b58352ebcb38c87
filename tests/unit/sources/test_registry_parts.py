"""Reference parsing, WWW-Authenticate parsing and Docker config credentials."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from containerguard.errors import ConfigError, SourceError
from containerguard.sources.docker_config import load_credentials
from containerguard.sources.imageref import ImageRef, parse_ref, same_image_name
from containerguard.sources.registry_auth import parse_challenge, token_params

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "expected"), [
    ("alpine", ImageRef("docker.io", "library/alpine", "latest")),
    ("alpine:3.19", ImageRef("docker.io", "library/alpine", "3.19")),
    ("bitnami/redis", ImageRef("docker.io", "bitnami/redis", "latest")),
    ("docker.io/alpine", ImageRef("docker.io", "library/alpine", "latest")),
    ("index.docker.io/library/alpine:1", ImageRef("docker.io", "library/alpine", "1")),
    ("ghcr.io/org/app:v1.2", ImageRef("ghcr.io", "org/app", "v1.2")),
    ("localhost/app", ImageRef("localhost", "app", "latest")),
    ("127.0.0.1:5000/a/b/c:t", ImageRef("127.0.0.1:5000", "a/b/c", "t")),
    (f"quay.io/x/y@{D}", ImageRef("quay.io", "x/y", "", D)),
    (f"quay.io/x/y:t@{D}", ImageRef("quay.io", "x/y", "t", D)),
    ("docker://reg.example:443/r", ImageRef("reg.example:443", "r", "latest")),
])
def test_parse_ref(text: str, expected: ImageRef) -> None:
    assert parse_ref(text) == expected


def test_ref_properties() -> None:
    hub = parse_ref("alpine")
    assert hub.api_host == "registry-1.docker.io" and hub.canonical == "docker.io/library/alpine:latest"
    assert parse_ref(f"q.io/x@{D}").reference == D and parse_ref(f"q.io/x@{D}").canonical == f"q.io/x@{D}"
    assert parse_ref("localhost:5000/x").is_local and parse_ref("127.0.0.1:1/x").is_local
    assert parse_ref("[::1]:5000/x").is_local and not parse_ref("127.0.0.1.example.com/x").is_local
    assert not parse_ref("ghcr.io/x").is_local
    assert same_image_name("alpine", "docker.io/library/alpine:latest")
    assert not same_image_name("alpine:1", "alpine:2")


@pytest.mark.parametrize("bad", ["", "UPPER/case", "x@sha256:short", "ghcr.io/a:b:c", "a/:t", "a:t/b"])
def test_parse_ref_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_ref(bad)


def test_parse_challenge() -> None:
    ch = parse_challenge('Bearer realm="https://auth.example/token",service="registry.example",'
                         'scope="repository:a/b:pull,push"')
    assert ch.scheme == "bearer" and ch.realm == "https://auth.example/token"
    assert token_params(ch, "ignored") == {"scope": "repository:a/b:pull,push", "service": "registry.example"}
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic.scheme == "basic" and basic.realm == "Registry Realm"
    bare = parse_challenge("Bearer realm=http://x/t")
    assert token_params(bare, "repository:r:pull") == {"scope": "repository:r:pull"}


def _config(tmp_path: Path, auths: dict[str, object]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": auths, "credsStore": "desktop"}))
    return path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_docker_config_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, {
        "https://index.docker.io/v1/": {"auth": _b64("hubuser:hub:pass")},
        "127.0.0.1:5000": {"auth": _b64("local:pw")},
        "http://reg.example:8443/v2/": {"username": "u", "password": "p"},
        "helper.example": {},
    })
    assert load_credentials("docker.io", path) == ("hubuser", "hub:pass")
    assert load_credentials("127.0.0.1:5000", path) == ("local", "pw")
    assert load_credentials("reg.example:8443", path) == ("u", "p")
    assert load_credentials("helper.example", path) is None
    assert load_credentials("other.example", path) is None
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert load_credentials("127.0.0.1:5000") == ("local", "pw")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    assert load_credentials("127.0.0.1:5000") is None


def test_docker_config_malformed(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not base64 'user:password'"):
        load_credentials("h", _config(tmp_path, {"h": {"auth": _b64("nocolon")}}))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(SourceError, match="not valid JSON"):
        load_credentials("h", bad)
