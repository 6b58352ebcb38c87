"""The security center end to end: the real server process, a real ``docker-registry`` notifying it,
images pushed with ``skopeo copy``, against SQLite and PostgreSQL (and one pushed by ``docker push``).

One scenario per store, in order: register the registry -> push three images -> each is scanned
(health, sub-assessments) -> a known digest under a new tag only gains the tag -> forged webhooks are
refused and scan nothing -> with the registry stopped, a newer advisory flips the healthy image
(re-assessment from the stored SBOM) -> a scan of the stopped registry fails with a clear error and
is retried -> ``kill -9`` with scans queued, restart: every scan completes.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import shutil
import tarfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cg_server import ServerProcess, cli, server_env, wait_for
from imagebuilder import OciLayout, build_image
from images import Docker
from pgdb import throwaway_database
from registry_server import HAVE_TOOLS, Notification, free_port, push, start_registry
from sqlalchemy import select

from containerguard.store.db import Store
from containerguard.store.tables import RegistryRow, ScanRow

FEEDS = Path(__file__).resolve().parents[3] / "shared" / "feeds"
ENVELOPE = "application/vnd.docker.distribution.events.v1+json"

ALPINE_OS = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n'
DEBIAN_OS = (b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
             b"VERSION_CODENAME=bookworm\nID=debian\n")


def apk_db(*packages: tuple[str, str, str]) -> bytes:
    """An ``lib/apk/db/installed`` with (name, version, origin) stanzas."""
    return "".join(f"P:{n}\nV:{v}\nA:x86_64\no:{o}\n\n" for n, v, o in packages).encode()


def dpkg_status(*packages: tuple[str, str, str]) -> bytes:
    """A ``var/lib/dpkg/status`` with (name, version, source) stanzas."""
    return "".join(f"Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nSource: {s}\n"
                   f"Version: {v}\nDescription: {n}\n\n" for n, v, s in packages).encode()


IMAGES: dict[str, list[dict[str, bytes]]] = {
    # openssl 1.1.1d-r0 is below the Alpine v3.11 secdb fixes (CVE-2019-1547 fixed in 1.1.1d-r1, ...).
    "alpine-vuln": [{"etc/os-release": ALPINE_OS,
                     "lib/apk/db/installed": apk_db(("musl", "1.1.24-r2", "musl"),
                                                    ("libssl1.1", "1.1.1d-r0", "openssl"))}],
    # openssl 3.0.11-1~deb12u1 predates later bookworm security fixes (e.g. CVE-2023-5678).
    "debian-openssl": [{"etc/os-release": DEBIAN_OS,
                        "var/lib/dpkg/status": dpkg_status(("openssl", "3.0.11-1~deb12u1", "openssl"),
                                                           ("libssl3", "3.0.11-1~deb12u1", "openssl"))}],
    # Nothing in the shipped feeds affects this one, until the hand-written record below is imported.
    "alpine-healthy": [{"etc/os-release": ALPINE_OS,
                        "lib/apk/db/installed": apk_db(("alpine-baselayout", "3.2.0-r3", "alpine-baselayout"))}],
}

NEW_ADVISORY = {
    "schema_version": "1.6.0",
    "id": "ALPINE-CG-TEST-0001",
    "modified": "2026-11-01T00:00:00Z",
    "published": "2026-10-30T00:00:00Z",
    "aliases": ["CVE-2099-0001"],
    "summary": "alpine-baselayout: test flaw found after the image was scanned",
    "details": "A hand-written advisory for the re-assessment test.",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [{"package": {"ecosystem": "Alpine:v3.11", "name": "alpine-baselayout"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.2.0-r4"}]}]}],
    "references": [{"type": "ADVISORY", "url": "https://example.invalid/CVE-2099-0001"}],
}

pytestmark = pytest.mark.skipif(not HAVE_TOOLS or not (FEEDS / "alpine").is_dir(),
                                reason="needs docker-registry, skopeo and ../shared/feeds")


class Receiver:
    """An HTTP endpoint collecting the server's outgoing notifications."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """"" (the embedded SQLite store) or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    with throwaway_database() as url:
        yield url


def layouts(root: Path, names: list[str]) -> dict[str, tuple[Path, str]]:
    """OCI layouts of ``names`` (tag ``1``): name -> (layout dir, manifest digest)."""
    out = {}
    for name in names:
        image = build_image(IMAGES[name] if name in IMAGES else [{
            "etc/os-release": ALPINE_OS, "lib/apk/db/installed": apk_db((name, "1.0-r0", name))}])
        layout = OciLayout(root / name)
        layout.tag(layout.add_image(image), "1")
        layout.write()
        out[name] = (root / name, image.manifest_digest)
    return out


def by_repo(server: ServerProcess) -> dict[str, dict[str, Any]]:
    return {item["repository"]: item for item in server.get("/api/v1/images", limit=500)["items"]}


def scans(server: ServerProcess) -> list[dict[str, Any]]:
    return list(server.get("/api/v1/scans", limit=500)["items"])


def test_server_end_to_end(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    receiver = Receiver()
    env = server_env(home, database_url, CONTAINERGUARD_NOTIFY_URL=receiver.url, CONTAINERGUARD_WORKERS="2")
    cli(env, "db", "import", "-q", str(FEEDS / "alpine"), str(FEEDS / "debian"))
    token = cli(env, "token", "create", "--role", "admin").strip()
    server = ServerProcess(env, free_port(), tmp_path / "server.log", token).start()
    registry_dir = tmp_path / "registry"
    images = layouts(tmp_path / "layouts", list(IMAGES))
    try:
        _scenario(server, registry_dir, images, receiver, tmp_path, database_url)
    except BaseException:
        print(server.log.read_text()[-6000:])
        raise
    finally:
        server.stop()
        receiver.close()


def _scenario(server: ServerProcess, registry_dir: Path, images: dict[str, tuple[Path, str]], receiver: Receiver,
              tmp_path: Path, database_url: str) -> None:
    # Unauthenticated calls are refused; health needs no token.
    assert server.api("GET", "/api/v1/images", token="").status_code == 401
    assert server.api("GET", "/api/v1/health", token="").json()["status"] == "ok"

    # -- register, then start the registry configured with what registration returned -------------
    port = free_port()
    host = f"127.0.0.1:{port}"
    created = server.api("POST", "/api/v1/registries", json={"name": "local", "url": f"http://{host}",
                                                               "insecure": True, "username": "cg",
                                                               "password": "s3cret-pw"})
    assert created.status_code == 201, created.text
    webhook = created.json()["webhook"]
    assert webhook["url"].startswith(server.url) and webhook["authorization"].startswith("Bearer ")
    assert "s3cret-pw" not in json.dumps(server.get("/api/v1/registries"))
    notify = [Notification(webhook["url"], webhook["authorization"])]
    # The crawl on registration found no registry yet (it starts below): wait for it, so that every
    # scan below is provably triggered by a webhook.
    registry_id = created.json()["id"]
    crawled = wait_for("the registration crawl", lambda: server.get(f"/api/v1/registries/{registry_id}")["last_crawl"])
    assert "cannot reach registry" in server.get(f"/api/v1/registries/{registry_id}")["crawl_error"]
    assert crawled

    with start_registry(registry_dir, port=port, notifications=notify):
        # -- three pushes, three scans ------------------------------------------------------------
        for name, (layout, _) in images.items():
            push(f"oci:{layout}:1", f"{host}/{name}:1")

        def all_scanned() -> dict[str, dict[str, Any]] | None:
            found = by_repo(server)
            done = len(found) == 3 and all(i["health"] != "Pending" for i in found.values())
            return found if done else None

        found = wait_for("three scanned images", all_scanned, timeout=90)
        for name, (_, digest) in images.items():
            assert found[name]["digest"] == digest
            assert found[name]["registry"] == host
            assert found[name]["tags"] == ["1"]
        assert found["alpine-vuln"]["health"] == "Unhealthy"
        assert found["debian-openssl"]["health"] == "Unhealthy"
        assert found["alpine-healthy"]["health"] == "Healthy", found["alpine-healthy"]
        done = scans(server)
        assert len(done) == 3 and {s["status"] for s in done} == {"done"}, done
        assert all(s["trigger"] == "webhook" and s["duration"] is not None for s in done)

        vulns = server.get(f"/api/v1/images/{images['debian-openssl'][1]}/vulnerabilities", limit=500)["items"]
        ids = {v["name"] for v in vulns}
        assert "CVE-2023-5678" in ids, sorted(ids)
        one = next(v for v in vulns if v["name"] == "CVE-2023-5678")
        assert one["status"]["code"] == "Unhealthy" and one["status"]["severity"] in ("Low", "Medium", "High")
        details = one["additionalData"]
        assert details["patchable"] is True and details["fixedVersion"]
        assert details["softwareDetails"]["packageName"] in ("openssl", "libssl3")
        assert details["softwareDetails"]["version"] == "3.0.11-1~deb12u1"
        assert details["imageDigest"] == images["debian-openssl"][1]
        assert details["repositoryName"] == "debian-openssl" and one["category"] == "OS"
        assert one["resourceDetails"]["id"] == f"{host}/debian-openssl@{images['debian-openssl'][1]}"
        alpine_vulns = server.get(f"/api/v1/images/{images['alpine-vuln'][1]}/vulnerabilities")["items"]
        assert "CVE-2019-1547" in {v["name"] for v in alpine_vulns}
        assert server.get(f"/api/v1/images/{images['alpine-healthy'][1]}/vulnerabilities")["items"] == []
        assessments = server.get("/api/v1/assessments", status="Unhealthy")["items"]
        assert len(assessments) == 2
        assert {a["resourceDetails"]["repository"] for a in assessments} == {"alpine-vuln", "debian-openssl"}
        assert all(a["displayName"] == "Vulnerabilities in container registry images should be remediated"
                   for a in assessments)
        sbom = server.api("GET", f"/api/v1/images/{images['debian-openssl'][1]}/sbom", params={"format": "spdx"})
        assert sbom.status_code == 200 and sbom.json()["spdxVersion"] == "SPDX-2.3"
        wait_for("the Unhealthy notifications", lambda: len(
            [n for n in receiver.received if n["event"] == "image.unhealthy"]) >= 2, timeout=15)

        # -- the same digest under a new tag: tag added, no scan ---------------------------------
        push(f"oci:{images['alpine-healthy'][0]}:1", f"{host}/alpine-healthy:2")
        wait_for("tag 2", lambda: by_repo(server)["alpine-healthy"]["tags"] == ["1", "2"], timeout=30)
        assert len(scans(server)) == 3

        # -- an image index: each platform is scanned and carries the index's tag ----------------
        index_layout = OciLayout(tmp_path / "layouts" / "multi")
        platforms = [build_image(IMAGES["alpine-vuln"], arch=arch) for arch in ("amd64", "arm64")]
        index = index_layout.add_index(platforms)
        index_layout.tag(index, "1")
        index_layout.write()
        push(f"oci:{index_layout.root}:1", f"{host}/multi:1", all_images=True)

        def multi_scanned() -> list[dict[str, Any]] | None:
            rows = server.get("/api/v1/images", repository="multi")["items"]
            ok = len(rows) == 2 and all(r["health"] == "Unhealthy" and r["tags"] == ["1"] for r in rows)
            return rows if ok else None

        multi = wait_for("both platforms of the index", multi_scanned, timeout=60)
        assert {r["platform"] for r in multi} == {"linux/amd64", "linux/arm64"}
        assert {r["index_digest"] for r in multi} == {index["digest"]}
        assert {r["digest"] for r in multi} == {p.manifest_digest for p in platforms}
        wait_for("the index scans to settle", lambda: all(
            s["status"] == "done" for s in scans(server)), timeout=60)
        baseline = len(scans(server))

        # -- forged and unauthenticated webhooks: 401, nothing scanned ----------------------------
        envelope = {"events": [{"id": "x", "action": "push", "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "evil",
            "digest": "sha256:" + "ab" * 32, "tag": "1", "url": f"http://{host}/v2/evil/manifests/1"}}]}
        for header in ({"Authorization": "Bearer cg_forged"}, {}, {"Authorization": f"Bearer {server.token}x"}):
            response = httpx.post(webhook["url"], json=envelope, headers={**header, "Content-Type": ENVELOPE})
            assert response.status_code == 401, response.text
        assert len(scans(server)) == baseline

    # -- registry stopped: a newer advisory flips the healthy image, without any pull ---------------
    healthy_digest = images["alpine-healthy"][1]
    advisory = tmp_path / "new-advisory" / "ALPINE-CG-TEST-0001.json"
    advisory.parent.mkdir()
    advisory.write_text(json.dumps(NEW_ADVISORY))
    cli(server.env, "db", "import", "-q", str(advisory))
    flipped = wait_for("the re-assessment", lambda: by_repo(server)["alpine-healthy"]["health"] == "Unhealthy",
                       timeout=30)
    assert flipped
    image = by_repo(server)["alpine-healthy"]
    assert image["severity_counts"]["CRITICAL"] == 1
    assert len(scans(server)) == baseline, "re-assessment must not scan"
    vulns = server.get(f"/api/v1/images/{healthy_digest}/vulnerabilities")["items"]
    assert [v["name"] for v in vulns] == ["CVE-2099-0001"]
    assert vulns[0]["additionalData"]["cvss"]["3.1"]["base"] == 9.8
    events = server.get(f"/api/v1/images/{healthy_digest}/events")["items"]
    kinds = [e["kind"] for e in events]
    assert "reassessed" in kinds and kinds.count("health-changed") == 2, events
    reassessed = next(e for e in events if e["kind"] == "reassessed")
    assert [f["id"] for f in reassessed["data"]["new"]] == ["CVE-2099-0001"]
    wait_for("the new-critical notification", lambda: any(
        n["image"].endswith(healthy_digest) and n["event"] == "image.unhealthy" and n["reason"] == "reassess"
        for n in receiver.received), timeout=15)

    # -- registry down: a failed attempt with a clear error, queued for a retry ---------------------
    manual = server.api("POST", "/api/v1/scans", json={"ref": f"{host}/alpine-vuln:1"})
    assert manual.status_code == 202, manual.text
    manual_id = manual.json()["id"]
    rescans = [server.api("POST", "/api/v1/scans", json={"ref": f"{host}/{name}:1"}).json()["id"]
               for name in ("debian-openssl", "alpine-healthy")]

    def failed_attempt() -> dict[str, Any] | None:
        scan = server.get(f"/api/v1/scans/{manual_id}")
        return scan if scan["attempts"] >= 1 and scan["error"] else None

    scan = wait_for("a failed attempt", failed_attempt, timeout=30)
    assert "cannot reach registry" in scan["error"] and scan["status"] in ("queued", "running"), scan

    # -- kill -9 with work queued; restart: nothing is lost ------------------------------------------
    extra = layouts(tmp_path / "more", [f"pkg{n}" for n in range(6)])
    queued = [server.api("POST", "/api/v1/scans", json={"ref": f"oci:{path}:1"}).json()["id"]
              for path, _ in extra.values()]
    server.kill()
    store = Store(server.env.get("CONTAINERGUARD_DATABASE_URL") or f"sqlite:///{server.env['CONTAINERGUARD_HOME']}"
                  "/containerguard.db")
    with store.session() as session:
        left = {row.id: row.status for row in session.scalars(select(ScanRow))}
    with store.session() as session:
        assert "s3cret-pw" not in session.scalars(select(RegistryRow.password)).one()
    store.close()
    assert all(left[i] in ("queued", "running") for i in [manual_id, *rescans])
    print("unfinished at kill:", sorted(status for i, status in left.items() if i in queued))
    with start_registry(registry_dir, port=port):
        server.start()
        def all_done() -> bool:
            states = {s["id"]: s["status"] for s in scans(server)}
            return all(states[i] == "done" for i in [*queued, manual_id, *rescans])

        wait_for("the resumed scans", all_done, timeout=120)
        # This registry instance sends no notifications: a push is only found by crawling the catalog.
        crawled_layout = layouts(tmp_path / "crawled", ["pkg-crawled"])["pkg-crawled"]
        push(f"oci:{crawled_layout[0]}:1", f"{host}/crawled:7")
        assert server.api("POST", f"/api/v1/registries/{registry_id}/crawl").status_code == 202
        crawled = wait_for("the crawled image", lambda: [
            i for i in server.get("/api/v1/images", repository="crawled")["items"] if i["health"] != "Pending"],
            timeout=60)
        assert crawled[0]["digest"] == crawled_layout[1] and crawled[0]["tags"] == ["7"]
        assert crawled[0]["health"] == "Healthy"
        assert [s["trigger"] for s in scans(server) if s["repository"] == "crawled"] == ["crawl"]
    assert server.get(f"/api/v1/scans/{manual_id}")["error"] is None
    assert len([i for i in server.get("/api/v1/images", limit=500)["items"] if i["registry"] == "oci"]) == 6
    metrics = server.api("GET", "/metrics").text
    assert 'containerguard_scans{status="done"}' in metrics and "containerguard_queue_depth 0.0" in metrics
    if not database_url:
        assert (server.env["CONTAINERGUARD_HOME"] and
                (Path(server.env["CONTAINERGUARD_HOME"]) / "containerguard.db").is_file())
    shutil.rmtree(tmp_path / "more", ignore_errors=True)


def rootfs_tar(files: dict[str, bytes]) -> bytes:
    """A tar of ``files`` (what ``docker import`` turns into a one-layer image)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_docker_push_is_scanned(tmp_path: Path, docker: Docker) -> None:
    """The same scan on push, the image pushed by the Docker Engine (``docker push``: a Docker v2
    schema 2 manifest, the engine's own upload order and notifications)."""
    env = server_env(tmp_path / "home", "")
    cli(env, "db", "import", "-q", str(FEEDS / "alpine"))
    server = ServerProcess(env, free_port(), tmp_path / "server.log",
                           cli(env, "token", "create", "--role", "admin").strip()).start()
    port = free_port()
    host = f"127.0.0.1:{port}"
    local = f"cg-e2e-docker-{uuid.uuid4().hex[:8]}"
    pushed = [f"{host}/docker-pushed:1", f"{host}/docker-pushed:again"]
    try:
        created = server.api("POST", "/api/v1/registries", json={"name": "local", "url": f"http://{host}",
                                                                   "insecure": True}).json()
        wait_for("the registration crawl", lambda: server.get(f"/api/v1/registries/{created['id']}")["last_crawl"])
        notify = [Notification(created["webhook"]["url"], created["webhook"]["authorization"])]
        docker.run("import", "-", local, stdin=rootfs_tar(IMAGES["alpine-vuln"][0]))
        with start_registry(tmp_path / "registry", port=port, notifications=notify):
            docker.run("tag", local, pushed[0])
            docker.run("push", pushed[0])
            digest = json.loads(docker.run("inspect", "--format", "{{json .RepoDigests}}", pushed[0]))[0]
            digest = digest.rsplit("@", 1)[1]
            image = wait_for("the docker-pushed image", lambda: [
                i for i in server.get("/api/v1/images", repository="docker-pushed")["items"]
                if i["health"] != "Pending"], timeout=60)[0]
            assert (image["digest"], image["tags"], image["health"]) == (digest, ["1"], "Unhealthy"), image
            vulns = server.get(f"/api/v1/images/{digest}/vulnerabilities")["items"]
            assert "CVE-2019-1547" in {v["name"] for v in vulns}
            # docker push of the same image under a second tag: only the tag is added.
            docker.run("tag", local, pushed[1])
            docker.run("push", pushed[1])
            wait_for("the second tag", lambda: server.get("/api/v1/images", repository="docker-pushed")[
                "items"][0]["tags"] == ["1", "again"], timeout=30)
            assert [s["trigger"] for s in scans(server)] == ["webhook"]
    except BaseException:
        print(server.log.read_text()[-6000:])
        raise
    finally:
        server.stop()
        with contextlib.suppress(RuntimeError):
            docker.run("rmi", local, *pushed)
