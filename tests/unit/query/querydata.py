"""A small estate for the query tests, written through the store's own functions (what the REST API
reads): three images (one with seven findings, one closed), a Docker host with three failed controls
(one on its container), a registered host that never reported, a cluster with check results and
workloads, three alerts."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pgdb import throwaway_database
from sqlalchemy import select

from containerguard.models.advisory import Severity
from containerguard.models.finding import Finding, MatchEvidence
from containerguard.models.k8s import K8sCheckResult
from containerguard.models.sbom import Location, Package
from containerguard.models.snapshot import snapshot_from_dict
from containerguard.pipeline.audit import audit
from containerguard.store import clusters as cluster_repo
from containerguard.store import hosts as host_repo
from containerguard.store.alerts import AlertIn, record_alert
from containerguard.store.db import Store, migrate
from containerguard.store.findings import sync_findings
from containerguard.store.images import add_tags, ensure_image, set_counts
from containerguard.store.secrets import Cipher
from containerguard.store.tables import FindingRow

HOST_FIXTURE = Path(__file__).parents[2] / "fixtures" / "host" / "hardened.json"
REGISTRY = "registry.example.com"
API_DIGEST = "sha256:" + "a1" * 32
WEB_DIGEST = "sha256:" + "b2" * 32
NGINX_DIGEST = "sha256:" + "c3" * 32
INDEX_DIGEST = "sha256:" + "d4" * 32
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Estate:
    """What the seed wrote (ids to look up REST documents with)."""

    store: Store
    api_image: int
    web_image: int
    nginx_image: int
    host: int
    silent_host: int
    cluster: int
    alerts: list[int]
    finding_ids: list[int]


def finding(vuln: str, name: str, version: str, level: str, *, fixed: str = "", state: str = "fixed",
            score: float | None = 7.5, vector: str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
            title: str = "", description: str = "", refs: tuple[str, ...] = (), category: str = "OS",
            ptype: str = "deb", published: str = "") -> Finding:
    pkg = Package(ptype, name, version, locations=(Location("var/lib/dpkg/status", "sha256:" + "11" * 32),
                                                   Location("usr/share/doc", "sha256:" + "22" * 32)),
                  purl=f"pkg:{ptype}/{name}@{version}", source_name=f"{name}-src" if ptype == "deb" else "")
    severity = Severity(level, "cvss_v3" if score is not None else "debian", score, vector if score is not None else "")
    return Finding(id=vuln, aliases=(f"GHSA-{vuln[-4:]}",), package=pkg, installed_version=version,
                   fixed_version=fixed, fix_state=state, severity=severity, severities=(severity,), title=title,
                   description=description, references=refs, published=published, category=category,
                   evidence=(MatchEvidence(vuln, "Debian:12", name, version, "version", "[0, 2.0)"),))


API_FINDINGS = [
    finding("CVE-2024-0001", "openssl", "3.0.1", "CRITICAL", fixed="3.0.9", score=9.8,
            title="Remote code execution in openssl", refs=("https://example.com/a", "https://example.com/b"),
            published="2024-01-02T00:00:00Z"),
    finding("CVE-2024-0002", "openssl", "3.0.1", "HIGH", fixed="3.0.9", description="Buffer overflow\nmore text"),
    finding("CVE-2024-0003", "zlib", "1.2.13", "HIGH", state="will-not-fix", score=None),
    finding("CVE-2024-0004", "curl", "7.88.1", "MEDIUM", state="not-fixed", vector="CVSS:3.0/AV:L"),
    finding("CVE-2024-0005", "django", "3.2.0", "LOW", fixed="3.2.1", category="Language", ptype="pypi"),
    finding("CVE-2024-0006", "libxml2", "2.9.14", "UNKNOWN", score=None),
    finding("CVE-2024-0007", "lodash", "4.17.4", "HIGH", fixed="4.17.21", category="Language", ptype="npm"),
]
NGINX_FINDINGS = [finding("CVE-2024-0100", "nginx", "1.22.1", "HIGH", fixed="1.22.2"),
                  finding("CVE-2024-0101", "pcre2", "10.42", "MEDIUM")]


def _counts(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity.level] = counts.get(f.severity.level, 0) + 1
    return counts


def _image(store: Store, repository: str, digest: str, tags: list[str], findings: list[Finding],
           closed: list[Finding] | None = None, index_digest: str = "",
           health: str = "Unhealthy") -> tuple[int, list[int]]:
    with store.session() as s:
        row = ensure_image(s, REGISTRY, repository, digest, index_digest=index_digest)
        add_tags(row, tags)
        row.platform, row.distro, row.packages = "linux/amd64", "debian 12", 120
        row.last_scan, row.assessed_at, row.last_scan_id = NOW - timedelta(hours=1), NOW, "scan-1"
        row.notes = [{"kind": "info", "text": "scanned"}]
        s.flush()
        if closed:
            sync_findings(s, row, [*findings, *closed])
        sync_findings(s, row, findings)
        set_counts(row, _counts(findings))
        row.health = health
        s.flush()
        ids = list(s.scalars(select(FindingRow.id).where(FindingRow.image_id == row.id).order_by(FindingRow.id)))
        return row.id, ids


def _host(store: Store) -> tuple[int, int]:
    doc: dict[str, Any] = json.loads(HOST_FIXTURE.read_text())
    doc = copy.deepcopy(doc)
    doc["containers"][0]["HostConfig"]["Privileged"] = True  # 5.5, on the container "api"
    doc["files"]["/lib/systemd/system/docker.service"]["mode"] = "0666"  # 3.2, on the host
    doc["files"]["/lib/systemd/system/docker.socket"].update(uid=1000, owner="alice")  # 3.3
    doc["images"][0]["inspect"]["RepoDigests"] = [f"{REGISTRY}/team/api@{API_DIGEST}"]
    snapshot = snapshot_from_dict(doc)
    result = audit(snapshot)
    with store.session() as s:
        _, host = host_repo.register_host(s, "web-1")
        s.flush()
        host_repo.record_assessment(s, host, snapshot, json.dumps(doc), result)
        _, silent = host_repo.register_host(s, "silent-host")
        s.flush()
        return host.id, silent.id


def _cluster(store: Store, home: Path) -> int:
    from containerguard.config import Settings

    cipher = Cipher.for_settings(Settings(home=home))
    results = [
        K8sCheckResult("pss-privileged", "Privileged containers", "high", ("pss-baseline",), "fail",
                       "Deployment/shop/cart", "container app is privileged", kind="Deployment", namespace="shop",
                       name="cart"),
        K8sCheckResult("pss-run-as-non-root", "Run as non-root", "medium", ("pss-restricted",), "pass",
                       "Deployment/shop/cart", kind="Deployment", namespace="shop", name="cart"),
        K8sCheckResult("net-policies", "Namespaces have network policies", "low", (), "fail", "Namespace/shop",
                       "no NetworkPolicy", kind="Namespace", name="shop"),
    ]
    workloads = [
        cluster_repo.WorkloadInfo("Deployment", "shop", "cart", "uid-1",
                                  ({"name": "app", "kind": "container", "image": f"{REGISTRY}/team/api:1.4",
                                    "image_id": ""},)),
        cluster_repo.WorkloadInfo("Pod", "", "debug", "", ()),
    ]
    with store.session() as s:
        row = cluster_repo.add_cluster(s, cipher, "prod", server="https://10.0.0.1:6443", token="secret-token",
                                       interval=3600.0)
        s.flush()
        cluster_repo.record_assessment(s, row, results, workloads, ["could not list secrets"])
        return row.id


def _alerts(store: Store) -> list[int]:
    items = [
        AlertIn("Terminal shell in container", "Notice", "A shell was spawned", NOW - timedelta(hours=2),
                source="syscall", tactic="execution", techniques=("T1059",), tags=("shell", "mitre_execution"),
                output_fields={"container.id": "f" * 64, "container.name": "api", "container.image": "api:1.4",
                               "proc.name": "bash"}, hostname="web-1"),
        AlertIn("Write below etc", "Error", "File below /etc opened for writing", NOW - timedelta(days=3),
                source="syscall", tactic="persistence", output_fields={"fd.name": "/etc/passwd"}, hostname="web-1"),
        AlertIn("Attach to cluster-admin role", "Warning", "cluster-admin bound", NOW - timedelta(minutes=5),
                source="k8s_audit", tactic="", output_fields={"ka.user.name": "mallory"},
                context={"ka.target.resource": "clusterrolebindings", "ka.target.name": "evil"}),
    ]
    ids = []
    with store.session() as s:
        for item in items:
            row, _ = record_alert(s, item, timedelta(minutes=10))
            ids.append(row.id)
    return ids


def seed(store: Store, home: Path) -> Estate:
    """Write the estate; returns what it wrote."""
    api, api_findings = _image(store, "team/api", API_DIGEST, ["1.4", "latest"], API_FINDINGS[:6],
                               closed=API_FINDINGS[6:])
    web, _ = _image(store, "team/web", WEB_DIGEST, ["2.0"], [], index_digest=INDEX_DIGEST, health="Healthy")
    nginx, nginx_findings = _image(store, "library/nginx", NGINX_DIGEST, ["1.22"], NGINX_FINDINGS)
    host, silent = _host(store)
    cluster = _cluster(store, home)
    alert_ids = _alerts(store)
    return Estate(store, api, web, nginx, host, silent, cluster, alert_ids, api_findings + nginx_findings)


@contextmanager
def estate(backend: str, tmp: Path) -> Iterator[Estate]:
    """A seeded store on ``backend`` (``sqlite`` or ``postgresql``)."""
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp / 'cg.db'}")
        migrate(store.engine)
        try:
            yield seed(store, tmp / "home")
        finally:
            store.close()
        return
    with throwaway_database() as url:
        store = Store(url)
        migrate(store.engine)
        try:
            yield seed(store, tmp / "home")
        finally:
            store.close()
