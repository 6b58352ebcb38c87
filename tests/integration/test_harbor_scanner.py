"""Harbor's scanner API against the real server process, with a real ``docker-registry`` standing in
for Harbor's registry: one with htpasswd (Harbor hands a robot account's ``Basic`` header), one with
token auth (Harbor hands a ready ``Bearer`` registry token). The scanner pulls with exactly what the
scan request carried: no registry is registered with the server."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cg_server import ServerProcess, cli, server_env, wait_for
from imagebuilder import OciLayout, build_image
from registry_server import HAVE_TOOLS, free_port, push, start_registry

FEEDS = Path(__file__).resolve().parents[3] / "shared" / "feeds"
ALPINE_OS = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n'
# openssl 1.1.1d-r0 is below the Alpine v3.11 secdb fixes of CVE-2019-1547 and CVE-2019-1551.
APK_DB = b"P:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\nP:libssl1.1\nV:1.1.1d-r0\nA:x86_64\no:openssl\n\n"
VULN = "application/vnd.security.vulnerability.report; version=1.1"
SCAN_REQUEST = "application/vnd.scanner.adapter.scan.request+json; version=1.1"

pytestmark = pytest.mark.skipif(not HAVE_TOOLS or not (FEEDS / "alpine").is_dir(),
                                reason="needs docker-registry, skopeo and ../shared/feeds")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def scan(server: ServerProcess, token: str, registry: str, authorization: str, digest: str) -> str:
    body = {"registry": {"url": f"http://{registry}", "authorization": authorization},
            "artifact": {"repository": "library/app", "digest": digest, "tag": "1",
                         "mime_type": "application/vnd.oci.image.manifest.v1+json"}}
    response = server.api("POST", "/api/v1/scan", token=token, json=body, headers={"Content-Type": SCAN_REQUEST})
    assert response.status_code == 202, response.text
    scan_id: str = response.json()["id"]
    return scan_id


def report(server: ServerProcess, token: str, scan_id: str) -> Any:
    def probe() -> Any:
        response = server.api("GET", f"/api/v1/scan/{scan_id}/report", token=token, headers={"Accept": VULN},
                              follow_redirects=False)
        if response.status_code == 302:
            assert int(response.headers["Refresh-After"]) > 0
            return None
        return response
    return wait_for("the Harbor report", probe, timeout=90)


def test_harbor_scans_from_basic_and_bearer_registries(tmp_path: Path) -> None:
    env = server_env(tmp_path / "home", "", CONTAINERGUARD_SCAN_ATTEMPTS="2")
    cli(env, "db", "import", "-q", str(FEEDS / "alpine"))
    token = cli(env, "token", "create", "--role", "webhook", "--name", "harbor").strip()
    image = build_image([{"etc/os-release": ALPINE_OS, "lib/apk/db/installed": APK_DB}])
    layout = OciLayout(tmp_path / "layout")
    layout.tag(layout.add_image(image), "1")
    layout.write()
    server = ServerProcess(env, free_port(), tmp_path / "server.log").start()
    users = {"robot$scanner": "s3cret"}
    try:
        metadata = server.api("GET", "/api/v1/metadata", token=token)
        assert metadata.status_code == 200 and metadata.json()["scanner"]["name"] == "containerguard"

        with start_registry(tmp_path / "basic", auth="htpasswd", users=users) as reg:
            push(f"oci:{layout.root}:1", f"{reg.host}/library/app:1", creds="robot$scanner:s3cret")
            good = scan(server, token, reg.host, basic("robot$scanner", "s3cret"), image.manifest_digest)
            bad = scan(server, token, reg.host, basic("robot$scanner", "wrong"), image.manifest_digest)
            done = report(server, token, good)
            assert done.status_code == 200, done.text
            doc = done.json()
            assert doc["artifact"]["digest"] == image.manifest_digest
            ids = {v["id"] for v in doc["vulnerabilities"]}
            assert {"CVE-2019-1547", "CVE-2019-1551"} <= ids, ids
            assert all(v["package"] == "libssl1.1" and v["version"] == "1.1.1d-r0" for v in doc["vulnerabilities"])
            assert doc["vulnerabilities"][0]["layer"]["diff_id"] == image.layers[0].diff_id
            refused = report(server, token, bad)
            assert refused.status_code == 500
            assert "refused credentials" in refused.json()["error"]["message"]

        with start_registry(tmp_path / "token", auth="token", users=users) as reg:
            push(f"oci:{layout.root}:1", f"{reg.host}/library/app:1", creds="robot$scanner:s3cret")
            assert reg.token_server is not None
            jwt = reg.token_server.issuer.token("robot$scanner", [
                {"type": "repository", "name": "library/app", "actions": ["pull"]}])
            asked = len(reg.token_server.requests)
            pulled = report(server, token, scan(server, token, reg.host, f"Bearer {jwt}", image.manifest_digest))
            assert pulled.status_code == 200, pulled.text
            assert {"CVE-2019-1547", "CVE-2019-1551"} <= {v["id"] for v in pulled.json()["vulnerabilities"]}
            # The scan used Harbor's token as is: it never asked the token server for one.
            assert reg.token_server.requests[asked:] == []
    except BaseException:
        print(server.log.read_text()[-6000:])
        raise
    finally:
        server.stop()
