"""Harbor's Pluggable Scanner Adapter API through FastAPI's TestClient: real workers and a real
vulnerability DB from real Alpine advisories; the registry pull is replaced by SBOMs made here, and
the options the pull would use are recorded (the Authorization header Harbor handed over)."""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from containerguard.api.app import create_app
from containerguard.api.harbor_report import pick_media
from containerguard.config import load_settings
from containerguard.errors import SourceError
from containerguard.jobs import tasks
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.models.sbom import Distro, Location, Package, Sbom
from containerguard.sources.base import SourceOptions
from containerguard.store.db import Store
from containerguard.store.tables import StateRow
from containerguard.store.tokens import create_token
from containerguard.vulndb.build import FeedInput, import_feeds
from containerguard.vulndb.store import db_path

HARBOR = "harbor-core:8080"
VULN = "application/vnd.security.vulnerability.report; version=1.1"
VULN_HARBOR = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
SBOM = "application/vnd.security.sbom.report+json; version=1.0"
FEEDS = Path(__file__).resolve().parents[4] / "shared" / "feeds"
RECORDS = ("ALPINE-CVE-2019-1547.json", "ALPINE-CVE-2019-1551.json")
ALPINE = Distro("alpine", "3.11.6", pretty_name="Alpine Linux v3.11")
LAYER = Layer("sha256:" + "b" * 64, "sha256:" + "d" * 64)
BASIC = "Basic " + base64.b64encode(b"robot$scanner:s3cret").decode()

pytestmark = pytest.mark.skipif(not all((FEEDS / "alpine" / r).is_file() for r in RECORDS),
                                reason="../shared/feeds not present")


def digest_of(n: int) -> str:
    return f"sha256:{n:064x}"


def sbom(ref: str, digest: str, *packages: tuple[str, str]) -> Sbom:
    meta = ImageMetadata(name=ref, source="registry", layers=(LAYER,), manifest_digest=digest)
    return Sbom(meta, ALPINE, tuple(Package("apk", n, v, arch="x86_64", source_name=n, source_version=v,
                                            locations=(Location("lib/apk/db/installed", LAYER.diff_id),))
                                    for n, v in packages))


def wait(what: str, probe: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def import_records(folder: Path) -> None:
    target = db_path(load_settings())
    target.parent.mkdir(parents=True, exist_ok=True)
    import_feeds([FeedInput(folder)], target)


@dataclass
class Pulls:
    """What each pull was asked for, with which options; a gate holds pulls while a test looks."""

    refs: list[str] = field(default_factory=list)
    options: list[SourceOptions] = field(default_factory=list)
    packages: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    gate: threading.Event = field(default_factory=threading.Event)
    fail: bool = False

    def inventory(self, ref: str, options: SourceOptions) -> Sbom:
        self.refs.append(ref)
        self.options.append(options)
        self.gate.wait(20)
        if self.fail:
            raise SourceError(f"registry {HARBOR} refused credentials for library/app (401)")
        digest = ref.rsplit("@", 1)[-1]
        return sbom(ref, digest, *self.packages.get(digest, (("musl", "1.1.24-r2"),)))


@dataclass
class Harbor:
    client: TestClient
    tokens: dict[str, str]
    pulls: Pulls
    ctx: JobContext

    def call(self, method: str, path: str, role: str = "webhook", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)

    def scan(self, digest: str, authorization: str = BASIC, role: str = "webhook", **artifact: str) -> Any:
        body = {"registry": {"url": f"http://{HARBOR}", "authorization": authorization},
                "artifact": {"repository": "library/app", "digest": digest, "tag": "1.0",
                             "mime_type": "application/vnd.docker.distribution.manifest.v2+json", **artifact}}
        return self.call("POST", "/api/v1/scan", role=role, content=json.dumps(body), headers={
            "Content-Type": "application/vnd.scanner.adapter.scan.request+json; version=1.1"})

    def report(self, scan_id: str, accept: str = VULN, **params: str) -> Any:
        return self.call("GET", f"/api/v1/scan/{scan_id}/report", headers={"Accept": accept}, params=params)

    def finished(self, scan_id: str, accept: str = VULN, **params: str) -> Any:
        def probe() -> Any:
            response = self.report(scan_id, accept, **params)
            return response if response.status_code != 302 else None
        return wait("the report", probe)


@pytest.fixture
def harbor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harbor]:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    for record in RECORDS:
        shutil.copy(FEEDS / "alpine" / record, feeds)
    import_records(feeds)
    pulls = Pulls()
    # The manifest lookup sees the options too: record them the same way.
    monkeypatch.setattr(tasks, "plan", lambda ref, options: (
        ref.digest, [tasks.Target(f"{ref.name}@{ref.digest}", ref.host, ref.repository)]))
    config = ServerConfig(settings=load_settings(), database_url=f"sqlite:///{tmp_path / 'cg.db'}", workers=2,
                          retry_seconds=0.05, retry_max=0.1, max_attempts=2, crawl_interval=0, db_poll=0.1)
    store = Store(config.url)
    ctx = JobContext.create(config, store)
    ctx.inventory = pulls.inventory
    with TestClient(create_app(config, ctx)) as client:
        with store.session() as s:
            tokens = {role: create_token(s, role)[0] for role in ("admin", "webhook", "reader", "agent")}
        yield Harbor(client, tokens, pulls, ctx)
        pulls.gate.set()
    store.close()


def test_metadata_names_the_scanner_and_its_mime_types(harbor: Harbor) -> None:
    response = harbor.call("GET", "/api/v1/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.scanner.adapter.metadata+json")
    doc = response.json()
    assert doc["scanner"]["name"] == "containerguard" and doc["scanner"]["vendor"] and doc["scanner"]["version"]
    vuln = next(c for c in doc["capabilities"] if c["type"] == "vulnerability")
    assert set(vuln["consumes_mime_types"]) == {"application/vnd.oci.image.manifest.v1+json",
                                                "application/vnd.docker.distribution.manifest.v2+json"}
    assert set(vuln["produces_mime_types"]) == {VULN, VULN_HARBOR}
    sbom_cap = next(c for c in doc["capabilities"] if c["type"] == "sbom")
    assert sbom_cap["produces_mime_types"] == [SBOM]
    assert set(sbom_cap["additional_attributes"]["sbom_media_types"]) == {"application/spdx+json",
                                                                          "application/vnd.cyclonedx+json"}
    assert doc["properties"]["harbor.scanner-adapter/scanner-type"] == "os-package-vulnerability"
    assert doc["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"]


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("webhook", 200), ("reader", 403), ("agent", 403)])
def test_scanner_api_admits_admin_and_webhook_tokens(harbor: Harbor, role: str, status: int) -> None:
    assert harbor.call("GET", "/api/v1/metadata", role=role).status_code == status


def test_scanner_api_refuses_missing_and_forged_tokens(harbor: Harbor) -> None:
    assert harbor.client.get("/api/v1/metadata").status_code == 401
    assert harbor.client.get("/api/v1/metadata", headers={"Authorization": "Bearer cg_forged"}).status_code == 401
    # Harbor's "APIKey" authorization mode sends the token in its own header.
    api_key = harbor.client.get("/api/v1/metadata", headers={"X-ScannerAdapter-API-Key": harbor.tokens["webhook"]})
    assert api_key.status_code == 200
    forged = harbor.client.post("/api/v1/scan", json={}, headers={"Authorization": "Bearer cg_forged"})
    assert forged.status_code == 401 and harbor.pulls.refs == []


def test_scan_pulls_with_harbors_authorization_and_reports(harbor: Harbor) -> None:
    digest = digest_of(11)
    harbor.pulls.packages[digest] = (("openssl", "1.1.1d-r0"), ("musl", "1.1.24-r2"))
    accepted = harbor.scan(digest)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["content-type"].startswith("application/vnd.scanner.adapter.scan.response+json")
    scan_id = accepted.json()["id"]
    # Queued or running: 302 with Refresh-After, until the pull is let through.
    running = harbor.report(scan_id)
    assert running.status_code == 302 and int(running.headers["Refresh-After"]) > 0
    harbor.pulls.gate.set()
    report = harbor.finished(scan_id)
    assert report.status_code == 200, report.text
    assert report.headers["content-type"].startswith("application/vnd.security.vulnerability.report")
    assert harbor.pulls.refs == [f"{HARBOR}/library/app@{digest}"]
    used = harbor.pulls.options[0]
    assert used.authorization == BASIC and used.insecure  # http:// registry URL
    assert (used.username, used.password) == ("robot$scanner", "s3cret")
    doc = report.json()
    assert set(doc) >= {"generated_at", "artifact", "scanner", "severity", "vulnerabilities"}
    assert doc["artifact"] == {"repository": "library/app", "digest": digest, "tag": "1.0",
                               "mime_type": "application/vnd.docker.distribution.manifest.v2+json"}
    assert doc["scanner"]["name"] == "containerguard"
    by_id = {v["id"]: v for v in doc["vulnerabilities"]}
    assert set(by_id) == {"CVE-2019-1547", "CVE-2019-1551"}
    one = by_id["CVE-2019-1547"]
    assert one["package"] == "openssl" and one["version"] == "1.1.1d-r0" and one["fix_version"] == "1.1.1d-r1"
    assert one["severity"] in ("Unknown", "Negligible", "Low", "Medium", "High", "Critical")
    assert isinstance(one["links"], list) and isinstance(one["cwe_ids"], list)
    assert one["layer"] == {"digest": LAYER.digest, "diff_id": LAYER.diff_id}
    assert one["vendor_attributes"]["package_type"] == "apk" and isinstance(one["description"], str)
    assert isinstance(one["preferred_cvss"], dict) and isinstance(one["vendor_attributes"], dict)
    order = ("Unknown", "Negligible", "Low", "Medium", "High", "Critical")
    assert doc["severity"] == max((v["severity"] for v in doc["vulnerabilities"]), key=order.index)
    # The other vulnerability MIME type carries the same report; the scan is an ordinary scan too.
    other = harbor.report(scan_id, VULN_HARBOR)
    assert other.status_code == 200 and other.json()["vulnerabilities"] == doc["vulnerabilities"]
    assert other.headers["content-type"].startswith("application/vnd.scanner.adapter.vuln.report.harbor+json")
    listed = harbor.call("GET", f"/api/v1/scans/{scan_id}", role="admin").json()
    assert listed["status"] == "done" and listed["trigger"] == "harbor-scanner" and listed["tags"] == ["1.0"]
    # Once the report is out, the handed-over header is no longer kept.
    with harbor.ctx.store.session() as s:
        kept = s.get(StateRow, f"scan-access:{scan_id}")
        assert kept is not None and "s3cret" not in kept.value and json.loads(kept.value)["authorization"] == ""


def test_bearer_authorization_is_sent_as_is(harbor: Harbor) -> None:
    harbor.pulls.gate.set()
    scan_id = harbor.scan(digest_of(12), authorization="Bearer eyJhbGciOi.harbor.jwt").json()["id"]
    assert harbor.finished(scan_id).status_code == 200
    used = harbor.pulls.options[0]
    assert used.authorization == "Bearer eyJhbGciOi.harbor.jwt" and used.username == "" and used.password == ""


def test_clean_image_reports_no_vulnerabilities(harbor: Harbor) -> None:
    harbor.pulls.gate.set()
    scan_id = harbor.scan(digest_of(13)).json()["id"]
    doc = harbor.finished(scan_id).json()
    assert doc["vulnerabilities"] == [] and doc["severity"] == "Unknown"


@pytest.mark.parametrize(("media", "marker"), [("application/spdx+json", "spdxVersion"),
                                               ("application/vnd.cyclonedx+json", "bomFormat")])
def test_sbom_report(harbor: Harbor, media: str, marker: str) -> None:
    harbor.pulls.gate.set()
    scan_id = harbor.scan(digest_of(14)).json()["id"]
    response = harbor.finished(scan_id, SBOM, sbom_media_type=media)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["media_type"] == media and marker in doc["sbom"] and doc["artifact"]["digest"] == digest_of(14)
    assert harbor.report(scan_id, SBOM).status_code == 400  # no sbom_media_type
    assert harbor.report(scan_id, SBOM, sbom_media_type="text/plain").status_code == 400


def test_failed_scan_is_a_500_with_the_error(harbor: Harbor) -> None:
    harbor.pulls.fail = True
    harbor.pulls.gate.set()
    scan_id = harbor.scan(digest_of(15)).json()["id"]
    response = harbor.finished(scan_id)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/vnd.scanner.adapter.error+json")
    assert "refused credentials" in response.json()["error"]["message"]


def test_unknown_scan_and_unsupported_accept(harbor: Harbor) -> None:
    unknown = harbor.report("no-such-id")
    assert unknown.status_code == 404 and "error" in unknown.json()
    harbor.pulls.gate.set()
    scan_id = harbor.scan(digest_of(16)).json()["id"]
    assert harbor.report(scan_id, "application/vnd.scanner.adapter.vuln.report.raw").status_code == 501


def _post(harbor: Harbor, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return harbor.call("POST", "/api/v1/scan", content=raw, headers={"Content-Type": "application/json"})


GOOD_REGISTRY = {"url": f"https://{HARBOR}", "authorization": BASIC}
GOOD_ARTIFACT = {"repository": "library/app", "digest": digest_of(1)}


@pytest.mark.parametrize(("body", "status"), [
    ("{not json", 400),
    ([1, 2], 400),
    ({"registry": "https://x", "artifact": GOOD_ARTIFACT}, 400),
    ({"registry": {"url": 5}, "artifact": GOOD_ARTIFACT}, 400),
    ({"artifact": GOOD_ARTIFACT}, 422),
    ({"registry": GOOD_REGISTRY}, 422),
    ({"registry": {"authorization": BASIC}, "artifact": GOOD_ARTIFACT}, 422),
    ({"registry": {"url": "ftp://x"}, "artifact": GOOD_ARTIFACT}, 422),
    ({"registry": {"url": "https://user:pw@x"}, "artifact": GOOD_ARTIFACT}, 422),
    ({"registry": {"url": "https://x/v2/"}, "artifact": GOOD_ARTIFACT}, 422),
    ({"registry": {"url": "https://x", "authorization": "Digest abc"}, "artifact": GOOD_ARTIFACT}, 422),
    ({"registry": GOOD_REGISTRY, "artifact": {"repository": "library/app", "digest": "latest"}}, 422),
    ({"registry": GOOD_REGISTRY, "artifact": {"repository": "Bad Repo!", "digest": digest_of(1)}}, 422),
    ({"registry": GOOD_REGISTRY, "artifact": {**GOOD_ARTIFACT, "mime_type": "application/vnd.cncf.helm.config"}},
     501),
])
def test_bad_scan_requests_are_refused_and_scan_nothing(harbor: Harbor, body: Any, status: int) -> None:
    response = _post(harbor, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert harbor.call("GET", "/api/v1/scans", role="admin").json()["items"] == []


def test_a_good_request_body_is_accepted_as_plain_json(harbor: Harbor) -> None:
    harbor.pulls.gate.set()
    response = _post(harbor, {"registry": GOOD_REGISTRY, "artifact": GOOD_ARTIFACT})
    assert response.status_code == 202 and response.json()["id"]
    assert harbor.finished(response.json()["id"]).status_code == 200
    assert not harbor.pulls.options[0].insecure  # https registry URL


@pytest.mark.parametrize(("accept", "chosen"), [
    ("", VULN),
    ("*/*", VULN),
    ("application/vnd.scanner.adapter.vuln.report.harbor+json;version=1.0", VULN_HARBOR),
    ("text/html, application/vnd.security.vulnerability.report; version=1.1; q=0.9", VULN),
    ("application/vnd.scanner.adapter.vuln.report.raw", ""),
])
def test_pick_media(accept: str, chosen: str) -> None:
    assert pick_media(accept, (VULN, VULN_HARBOR, SBOM)) == chosen
