"""``docker:NAME`` against a scripted Engine API server (the docker SDK speaks real HTTP to it)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imagebuilder import build_image, write_docker_save

from containerguard.config import Settings
from containerguard.errors import SourceError
from containerguard.sources.base import SourceOptions
from containerguard.sources.docker_daemon import DockerDaemonSource
from containerguard.sources.ref import open_source
from containerguard.sources.registry import RegistrySource

IMG = build_image([{"etc/os-release": b"ID=debian\n"}], compress=False)
DIGEST = "example/app@sha256:" + "c" * 64


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[str]:
    archive = write_docker_save(tmp_path / "save.tar", [(IMG, ["example/app:1"])]).read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path.endswith("/version"):
                self._reply(200, json.dumps({"ApiVersion": "1.44", "Version": "25.0.0"}).encode())
            elif path.endswith("/images/example/app:1/get"):
                self._reply(200, archive, "application/x-tar")
            elif path.endswith("/images/example/app:1/json"):
                self._reply(200, json.dumps({"RepoDigests": [DIGEST]}).encode())
            else:
                self._reply(404, json.dumps({"message": "No such image: nope:1"}).encode())

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _options(engine: str, tmp_path: Path) -> SourceOptions:
    return SourceOptions(docker_host=engine, settings=Settings(home=tmp_path / "home"))


def test_export_and_read(engine: str, tmp_path: Path) -> None:
    source = open_source("docker:example/app:1", _options(engine, tmp_path))
    assert isinstance(source, DockerDaemonSource)
    meta = source.metadata()
    assert meta.source == "docker" and meta.name == "docker:example/app:1"
    assert meta.repo_tags == ("example/app:1",) and meta.repo_digests == (DIGEST,)
    assert [la.diff_id for la in meta.layers] == [IMG.layers[0].diff_id]
    with source.open_blob(meta.layers[0]) as blob:
        assert blob.read() == IMG.layers[0].tar
    tmp_files = list((tmp_path / "home" / "tmp").iterdir())
    assert len(tmp_files) == 1
    source.close()
    assert list((tmp_path / "home" / "tmp").iterdir()) == []


def test_image_not_found(engine: str, tmp_path: Path) -> None:
    source = open_source("docker:nope:1", _options(engine, tmp_path))
    with pytest.raises(SourceError, match="image nope:1 not found in the Docker Engine"):
        source.metadata()
    source.close()
    assert list((tmp_path / "home" / "tmp").iterdir()) == []


def test_engine_unreachable(tmp_path: Path) -> None:
    source = open_source("docker:x", _options("unix:///nonexistent/docker.sock", tmp_path))
    with pytest.raises(SourceError, match=r"cannot reach the Docker Engine at unix:///nonexistent/docker\.sock"):
        source.metadata()


def test_docker_scheme_means_registry() -> None:
    assert isinstance(open_source("docker://ghcr.io/org/app:1"), RegistrySource)
