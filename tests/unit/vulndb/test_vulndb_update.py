"""``db update`` / URL imports against a local HTTP server and a closed port; the ``db`` CLI."""

from __future__ import annotations

import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner
from vulndb_helpers import FIXTURES, osv

from containerguard.cli.db import db_app
from containerguard.config import Settings
from containerguard.errors import FeedError, VulnDbError
from containerguard.vulndb.store import SqliteVulnStore, db_path
from containerguard.vulndb.update import FEED_URLS_ENV, configured_urls, default_urls, download, update


def _zip_bytes(n: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(n):
            zf.writestr(f"OSV-{i}.json", json.dumps(osv(f"OSV-{i}", name=f"pkg{i}", details="y" * 300)))
    return buf.getvalue()


class FeedServer:
    """Serves fixed bodies; honours Range; can fail the first N requests of a path with 503."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.fail_first: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range", "")))
                if server.fail_first.get(self.path, 0) > 0:
                    server.fail_first[self.path] -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.bodies.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                if rng := self.headers.get("Range"):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("ETag", '"v1"')
                self.end_headers()
                self.wfile.write(body[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    yield srv
    srv.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_is_one_clear_line_and_db_unchanged(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    url = f"http://127.0.0.1:{_closed_port()}/PyPI/all.zip"
    with pytest.raises(FeedError, match=r"^offline: cannot reach 127\.0\.0\.1; the vulnerability database is "
                                        r"unchanged$"):
        update(settings, [url], attempts=2, backoff=0)
    assert not db_path(settings).exists()


def test_update_downloads_and_imports(tmp_path: Path, server: FeedServer) -> None:
    server.bodies["/PyPI/all.zip"] = _zip_bytes(30)
    server.bodies["/tracker/data/json"] = (FIXTURES / "debian-tracker.json").read_bytes()
    server.fail_first["/PyPI/all.zip"] = 1  # retried
    settings = Settings(home=tmp_path)
    seen: list[int] = []
    result = update(settings, [f"{server.url}/PyPI/all.zip", f"{server.url}/tracker/data/json"],
                    progress=lambda url, done, total: seen.append(done), backoff=0)
    assert result.failures == [] and result.report is not None
    assert {(s.source, s.location, s.records) for s in result.report.sources} == {
        ("osv", f"{server.url}/PyPI/all.zip", 30), ("debian-tracker", f"{server.url}/tracker/data/json", 8)}
    assert seen and seen[-1] > 0
    store = SqliteVulnStore(db_path(settings))
    assert [a.id for a in store.lookup("PyPI", "pkg3")] == ["OSV-3"]
    assert store.lookup("Debian:12", "curl")
    # A second update sends If-None-Match and keeps the cached file on 304… our server always
    # answers 200, so the data is fetched again and imported as unchanged.
    again = update(settings, [f"{server.url}/PyPI/all.zip"], backoff=0)
    assert again.report is not None and again.report.sources[0].unchanged == 30


def test_partial_failure_imports_the_rest(tmp_path: Path, server: FeedServer) -> None:
    server.bodies["/ok.json"] = json.dumps(osv("OSV-OK")).encode()
    settings = Settings(home=tmp_path)
    result = update(settings, [f"{server.url}/ok.json", f"{server.url}/missing.json"], backoff=0)
    assert result.report is not None and result.report.records == 1
    assert len(result.failures) == 1 and "HTTP 404" in str(result.failures[0])


def test_download_resumes_with_range(tmp_path: Path, server: FeedServer) -> None:
    body = _zip_bytes(40)
    server.bodies["/all.zip"] = body
    folder = tmp_path / "dl"
    folder.mkdir()
    part = folder / "127.0.0.1_{}_all.zip.part".format(server.url.rsplit(":", 1)[1])
    part.write_bytes(body[:1000])
    path = download(f"{server.url}/all.zip", folder, backoff=0)
    assert path.read_bytes() == body
    assert server.requests[-1] == ("/all.zip", "bytes=1000-")
    assert not part.exists()


def test_configured_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path)
    monkeypatch.delenv(FEED_URLS_ENV, raising=False)
    assert configured_urls(settings) == default_urls()
    assert "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip" in default_urls()
    assert "https://security-tracker.debian.org/tracker/data/json" in default_urls()
    (tmp_path / "feeds.txt").write_text("# mine\nhttps://a.example/x.zip  # comment\n\nhttps://b.example/y.json\n")
    assert configured_urls(settings) == ["https://a.example/x.zip", "https://b.example/y.json"]
    monkeypatch.setenv(FEED_URLS_ENV, "https://c.example/1.zip, https://d.example/2.zip")
    assert configured_urls(settings) == ["https://c.example/1.zip", "https://d.example/2.zip"]


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(db_app, name="db")
    return app


def test_cli_import_and_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FeedServer) -> None:
    monkeypatch.setenv("CONTAINERGUARD_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    missing = runner.invoke(_cli(), ["db", "status"])
    assert isinstance(missing.exception, VulnDbError)
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(osv("OSV-A")))
    (folder / "b.json").write_text("{broken")
    server.bodies["/secdb/v3.18/main.json"] = (FIXTURES / "alpine-v3.18-main.json").read_bytes()
    result = runner.invoke(_cli(), ["db", "import", str(folder), f"{server.url}/secdb/v3.18/main.json",
                                    str(FIXTURES / "debian-tracker.json")])
    assert result.exit_code == 0, result.output
    assert "records 1: 1 added" in result.output and "malformed 1" in result.output
    assert "not JSON" in result.output
    status = runner.invoke(_cli(), ["db", "status", "-f", "json"])
    assert status.exit_code == 0, status.output
    doc = json.loads(status.output)
    assert doc["schema_version"] == 1
    assert {s["source"] for s in doc["sources"]} == {"osv", "alpine-secdb", "debian-tracker"}
    assert "Alpine:v3.18" in doc["ecosystems"]
    table = runner.invoke(_cli(), ["db", "status"])
    assert table.exit_code == 0 and "debian-tracker" in table.output
    bad = runner.invoke(_cli(), ["db", "import", str(tmp_path / "nope.zip")])
    assert "no such file" in str(bad.exception)


def test_cli_update_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINERGUARD_HOME", str(tmp_path))
    monkeypatch.setenv(FEED_URLS_ENV, f"http://127.0.0.1:{_closed_port()}/x.zip")
    monkeypatch.setattr("containerguard.vulndb.update.time.sleep", lambda s: None)
    result = CliRunner().invoke(_cli(), ["db", "update", "-q"])
    assert isinstance(result.exception, FeedError)
    assert str(result.exception).startswith("offline: cannot reach 127.0.0.1")
