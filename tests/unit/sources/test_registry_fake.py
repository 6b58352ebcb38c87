"""The registry client against a tiny scripted HTTP server: errors, retries, redirects, tampering."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from imagebuilder import DOCKER_LIST, build_image, index_bytes, sha256

from containerguard.errors import AuthError, DigestMismatch, SourceError
from containerguard.sources import registry
from containerguard.sources.base import SourceOptions
from containerguard.sources.ref import open_source

IMG = build_image([{"a": b"1"}, {"b": b"2"}], docker_types=True)
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class FakeRegistry:
    """Routes ``GET path`` to a reply or a function of the request headers."""

    routes: dict[str, Reply | Callable[[dict[str, str]], Reply]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def serve_image(self, repo: str, tag: str, image: Any = IMG) -> None:
        base = f"/v2/{repo}"
        ctype = {"Content-Type": image.manifest_media_type}
        self.routes[f"{base}/manifests/{tag}"] = (200, ctype, image.manifest)
        self.routes[f"{base}/manifests/{image.manifest_digest}"] = (200, ctype, image.manifest)
        self.routes[f"{base}/blobs/{image.config_digest}"] = (200, {}, image.config)
        for layer in image.layers:
            self.routes[f"{base}/blobs/{layer.digest}"] = (200, {}, layer.blob)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[FakeRegistry]:
    monkeypatch.setattr(registry, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    state = FakeRegistry()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.seen.append((self.path, headers))
            route = state.routes.get(self.path.split("?")[0])
            reply: Reply
            if route is None:
                reply = (200, {}, b"{}") if self.path == "/v2/" else (404, {}, b"")
            else:
                reply = route(headers) if callable(route) else route
            status, extra, body = reply
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def _read_layers(ref: str, options: SourceOptions | None = None) -> list[bytes]:
    source = open_source(ref, options)
    out = []
    for layer in source.metadata().layers:
        with source.open_blob(layer) as blob:
            out.append(blob.read())
    source.close()
    return out


def test_plain_pull_with_redirected_blob(fake: FakeRegistry) -> None:
    fake.serve_image("r", "t")
    digest = IMG.layers[1].digest
    fake.routes[f"/v2/r/blobs/{digest}"] = (307, {"Location": "/storage/xyz"}, b"")
    fake.routes["/storage/xyz"] = (200, {}, IMG.layers[1].blob)
    assert _read_layers(f"{fake.host}/r:t") == [la.blob for la in IMG.layers]
    meta = open_source(f"{fake.host}/r:t").metadata()
    assert all(la.media_type.endswith("tar.gzip") for la in meta.layers)


def test_server_error(fake: FakeRegistry) -> None:
    fake.routes["/v2/r/manifests/t"] = (500, {}, b"oops")
    with pytest.raises(SourceError, match=r"registry 127\.0\.0\.1:\d+ answered 500 for manifest t of r"):
        open_source(f"{fake.host}/r:t").metadata()


def test_transient_errors_are_retried(fake: FakeRegistry) -> None:
    fake.serve_image("r", "t")
    calls = []
    good = fake.routes["/v2/r/manifests/t"]

    def flaky(headers: dict[str, str]) -> Reply:
        calls.append(1)
        return (503, {}, b"") if len(calls) < 3 else good  # type: ignore[return-value]

    fake.routes["/v2/r/manifests/t"] = flaky
    assert open_source(f"{fake.host}/r:t").metadata().manifest_digest == IMG.manifest_digest
    assert len(calls) == 3
    calls.clear()
    fake.routes["/v2/r/manifests/t"] = lambda h: (503, {}, b"")
    with pytest.raises(SourceError, match="answered 503"):
        open_source(f"{fake.host}/r:t").metadata()


def test_unknown_media_type(fake: FakeRegistry) -> None:
    widget = "application/vnd.example.widget+json"
    fake.routes["/v2/r/manifests/t"] = (200, {"Content-Type": widget}, b"{}")
    with pytest.raises(SourceError, match=re.escape(f"unsupported manifest media type '{widget}'")):
        open_source(f"{fake.host}/r:t").metadata()


def test_manifest_by_digest_mismatch(fake: FakeRegistry) -> None:
    other = build_image([{"z": b"z"}], docker_types=True)
    fake.routes[f"/v2/r/manifests/{IMG.manifest_digest}"] = (
        200, {"Content-Type": other.manifest_media_type}, other.manifest)
    with pytest.raises(DigestMismatch, match="manifest digest mismatch"):
        open_source(f"{fake.host}/r@{IMG.manifest_digest}").metadata()


def test_child_manifest_mismatch_in_list(fake: FakeRegistry) -> None:
    other = build_image([{"z": b"z"}], docker_types=True)
    index = index_bytes([IMG.descriptor()], DOCKER_LIST)
    fake.routes["/v2/r/manifests/t"] = (200, {"Content-Type": DOCKER_LIST}, index)
    fake.routes[f"/v2/r/manifests/{IMG.manifest_digest}"] = (
        200, {"Content-Type": other.manifest_media_type}, other.manifest)
    with pytest.raises(DigestMismatch):
        open_source(f"{fake.host}/r:t").metadata()


def test_config_and_layer_tampering(fake: FakeRegistry) -> None:
    fake.serve_image("r", "t")
    fake.routes[f"/v2/r/blobs/{IMG.layers[0].digest}"] = (200, {}, IMG.layers[1].blob)
    with pytest.raises(DigestMismatch, match="layer"):
        _read_layers(f"{fake.host}/r:t")
    fake.routes[f"/v2/r/blobs/{IMG.config_digest}"] = (200, {}, IMG.config + b" ")
    with pytest.raises(DigestMismatch, match="image config"):
        open_source(f"{fake.host}/r:t").metadata()


def test_oversized_manifest(fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MAX_MANIFEST_BYTES", 100)
    fake.serve_image("r", "t")
    with pytest.raises(SourceError, match="over 100 bytes"):
        open_source(f"{fake.host}/r:t").metadata()


def test_basic_challenge(fake: FakeRegistry) -> None:
    fake.serve_image("r", "t")
    expected = "Basic " + base64.b64encode(b"u:p").decode()
    for path, reply in list(fake.routes.items()):
        def guarded(headers: dict[str, str], reply: Any = reply) -> Reply:
            if headers.get("authorization") != expected:
                return 401, {"WWW-Authenticate": 'Basic realm="x"'}, b""
            return reply  # type: ignore[no-any-return]
        fake.routes[path] = guarded
    assert len(_read_layers(f"{fake.host}/r:t", SourceOptions(username="u", password="p"))) == 2
    with pytest.raises(AuthError, match="refused anonymous access to r"):
        open_source(f"{fake.host}/r:t").metadata()
    with pytest.raises(AuthError, match=r"refused credentials for r \(401\)"):
        open_source(f"{fake.host}/r:t", SourceOptions(username="u", password="bad")).metadata()


def test_bearer_challenge_token_variants(fake: FakeRegistry) -> None:
    fake.serve_image("r", "t")
    fake.routes["/token"] = (200, {"Content-Type": "application/json"}, json.dumps({"access_token": "T1"}).encode())
    challenge = f'Bearer realm="http://{fake.host}/token",service="svc"'
    good = fake.routes["/v2/r/manifests/t"]
    fake.routes["/v2/r/manifests/t"] = lambda h: good if h.get("authorization") == "Bearer T1" \
        else (401, {"WWW-Authenticate": challenge}, b"")  # type: ignore[assignment,return-value]
    assert open_source(f"{fake.host}/r:t").metadata().manifest_digest == IMG.manifest_digest
    token_calls = [p for p, _ in fake.seen if p.startswith("/token")]
    assert token_calls == ["/token?scope=repository%3Ar%3Apull&service=svc"]
    fake.routes["/token"] = (200, {}, b'{"nothing": 1}')
    with pytest.raises(SourceError, match="sent no token"):
        open_source(f"{fake.host}/r:t").metadata()
    fake.routes["/token"] = (401, {}, b"")
    with pytest.raises(AuthError, match="refused anonymous access"):
        open_source(f"{fake.host}/r:t").metadata()


def test_forbidden(fake: FakeRegistry) -> None:
    fake.routes["/v2/r/manifests/t"] = (403, {}, b"")
    with pytest.raises(AuthError, match=r"\(403\)"):
        open_source(f"{fake.host}/r:t").metadata()


def test_digest_of_served_manifest(fake: FakeRegistry) -> None:
    fake.serve_image("r", "t")
    meta = open_source(f"{fake.host}/r:t").metadata()
    assert meta.manifest_digest == sha256(IMG.manifest)
    assert meta.repo_digests == (f"{fake.host}/r@{IMG.manifest_digest}",)
