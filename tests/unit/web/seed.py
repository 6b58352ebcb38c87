"""A large synthetic estate for speed checks: images, findings, hosts, clusters and alerts written with
bulk INSERTs through SQLAlchemy Core (no ORM objects, no per-row Python beyond building the values).

``seed_estate(engine, images=10_000, findings=1_000_000)`` fills a migrated, empty store in well under
a minute on SQLite. Every image's per-severity counts and health agree with its open findings, so the
overview and the recommendation counts can be checked against raw SQL.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Engine
from sqlalchemy.orm import Session

from containerguard.jobs.assess import Assessment, record
from containerguard.models.advisory import Severity
from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.models.finding import Finding, MatchEvidence
from containerguard.models.k8s import K8sCheckResult
from containerguard.models.sbom import Distro, Location, Package, Sbom
from containerguard.models.snapshot import snapshot_from_dict
from containerguard.pipeline.audit import audit
from containerguard.sbom.formats.base import get_format
from containerguard.store.alerts import AlertIn, record_alert
from containerguard.store.clusters import WorkloadInfo, add_cluster
from containerguard.store.clusters import record_assessment as record_cluster
from containerguard.store.hosts import record_assessment as record_host
from containerguard.store.hosts import register_host
from containerguard.store.images import add_tags, ensure_image
from containerguard.store.secrets import Cipher
from containerguard.store.tables import (
    AlertRow,
    ClusterResultRow,
    ClusterRow,
    ClusterWorkloadRow,
    FindingRow,
    HostRow,
    HostSnapshotRow,
    ImageRow,
    RegistryRow,
    UtcDateTime,
    utcnow,
)

LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")
_LEVEL_WEIGHTS = (4, 18, 40, 25, 8, 5)
_TACTICS = ("Execution", "Persistence", "Privilege Escalation", "Defense Evasion", "Discovery",
            "Credential Access", "Command and Control", "Impact", "")
_ALERT_SEVERITIES = (("Critical", 2, "high"), ("Warning", 4, "medium"), ("Notice", 5, "low"),
                     ("Informational", 6, "informational"))
_CONTROLS = tuple((f"{section}.{n}", f"Ensure control {section}.{n} holds", level)
                  for section, count, level in (("1", 8, 1), ("2", 14, 1), ("3", 10, 1), ("4", 6, 1), ("5", 20, 2))
                  for n in range(1, count + 1))
_K8S_CHECKS = tuple((f"CG-K8S-SEED-{n:03d}", f"Seeded check {n}", ("HIGH", "MEDIUM", "LOW")[n % 3])
                    for n in range(1, 21))
BATCH = 20_000


@dataclass
class SeedSummary:
    """What was written, with the totals a page must show (for comparisons in checks)."""

    images: int = 0
    findings: int = 0
    open_by_level: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    images_by_health: dict[str, int] = field(default_factory=dict)
    hosts: int = 0
    workloads: int = 0
    alerts: int = 0
    image_ids: list[int] = field(default_factory=list)


def digest(*parts: object) -> str:
    """A deterministic ``sha256:…`` of ``parts``."""
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def native_sbom(name: str, manifest: str, packages: int, layers: int = 3) -> str:
    """A containerguard native SBOM with ``packages`` Debian packages spread over ``layers`` layers."""
    layer_list = [{"digest": digest(manifest, "blob", i), "diff_id": digest(manifest, "diff", i),
                   "media_type": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1_000_000 * (i + 1),
                   "created_by": f"/bin/sh -c #(nop) step {i}"} for i in range(layers)]
    pkgs = [{"type": "deb", "name": f"lib-seed-{i}", "version": f"1.{i % 50}.{i % 7}-1", "namespace": "debian",
             "arch": "amd64", "source_name": f"seed-{i}", "licenses": ["MIT"],
             "locations": [["var/lib/dpkg/status", layer_list[i % layers]["diff_id"]]],
             "purl": f"pkg:deb/debian/lib-seed-{i}@1.{i % 50}.{i % 7}-1?arch=amd64&distro=debian-12"}
            for i in range(packages)]
    doc = {"schema": "containerguard/sbom/v1", "tool": "containerguard seed",
           "artifact": {"name": name, "source": "registry", "manifest_digest": manifest,
                        "config_digest": digest(manifest, "config"), "repo_tags": [], "repo_digests": [],
                        "platform": "linux/amd64", "created": "2024-05-01T00:00:00Z", "layers": layer_list},
           "distro": {"id": "debian", "version_id": "12", "name": "Debian GNU/Linux",
                      "pretty_name": "Debian GNU/Linux 12 (bookworm)", "codename": "bookworm", "id_like": [],
                      "distroless": False},
           "packages": pkgs, "skipped": []}
    return json.dumps(doc, separators=(",", ":"))


def _stamper(dialect: str) -> Any:
    """How a timestamp goes to the driver: on SQLite the text SQLAlchemy itself writes (naive UTC)."""
    if dialect != "sqlite":
        return lambda v: v
    return lambda v: None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _encoders(table: Any, dialect: str) -> dict[str, Any]:
    """Per column, how a Python value becomes what the driver takes (None: as it is). Done here so a
    million rows skip SQLAlchemy's per-value processing."""
    stamp = _stamper(dialect)
    out: dict[str, Any] = {}
    for column in table.columns:
        if isinstance(column.type, JSON):
            out[column.name] = json.dumps
        elif isinstance(column.type, UtcDateTime):
            out[column.name] = stamp
        else:
            out[column.name] = None
    return out


def _insert_rows(engine: Engine, table: Any, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """Bulk-insert tuples already in the driver's terms, with the driver's executemany."""
    written = 0
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        quote = conn.dialect.identifier_preparer.quote
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
               f"VALUES ({', '.join([marker] * len(columns))})")
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= BATCH:
                conn.exec_driver_sql(sql, chunk)
                written += len(chunk)
                chunk = []
        if chunk:
            conn.exec_driver_sql(sql, chunk)
            written += len(chunk)
    return written


def _insert(engine: Engine, table: Any, rows: Sequence[dict[str, Any]]) -> int:
    """Bulk-insert dict rows (every row has the same keys), encoding JSON and timestamps."""
    if not rows:
        return 0
    encoders = _encoders(table, engine.dialect.name)
    columns = list(rows[0])
    fns = [encoders[c] for c in columns]
    return _insert_rows(engine, table, columns, (tuple(v if fn is None else fn(v) for v, fn in zip(
        (row[c] for c in columns), fns, strict=True)) for row in rows))


_FINDING_COLUMNS = ("image_id", "key", "state", "vuln_id", "aliases", "title", "description", "severity",
                    "severity_source", "cvss_score", "cvss_vector", "severities", "package_type", "package_name",
                    "package", "installed_version", "fixed_version", "fix_state", "category", "references",
                    "published", "modified", "evidence", "first_seen", "updated_at", "closed_at")


def seed_estate(engine: Engine, *, images: int = 10_000, findings: int = 1_000_000, repositories: int = 2_000,
                registries: int = 4, sbom_packages: int = 60, hosts: int = 20, clusters: int = 2,
                workloads: int = 200, alerts: int = 3_000, days: int = 45, closed_share: float = 0.15,
                now: datetime | None = None, seed: int = 7) -> SeedSummary:
    """Fill a migrated, empty store with a synthetic estate; returns what it wrote.

    Findings are spread evenly over four images in five (the fifth is clean). Each image was scanned
    three times within the last ``days`` days: a finding is first seen at one of those scans and
    ``closed_share`` of them were closed by a later one. Images with no open finding are Healthy,
    except every 50th (NotApplicable) and every 97th (Pending, never scanned)."""
    rnd = random.Random(seed)
    now = now or datetime.now(UTC)
    stamp = _stamper(engine.dialect.name)
    summary = SeedSummary()
    hosts_names = [f"registry-{i}.example.com" for i in range(registries)]
    _insert(engine, RegistryRow.__table__, [
        {"name": f"reg{i}", "url": f"https://{h}", "host": h, "insecure": False, "username": "", "password": "",
         "created_at": now - timedelta(days=days), "last_crawl": None, "crawl_error": ""}
        for i, h in enumerate(hosts_names)])

    eligible = [n for n in range(images) if n % 97 != 96 and n % 50 != 49 and n % 5]
    share, extra = divmod(findings, len(eligible)) if eligible else (0, 0)
    quota = {n: share + (1 if i < extra else 0) for i, n in enumerate(eligible)}
    cumulative = [sum(_LEVEL_WEIGHTS[: i + 1]) / sum(_LEVEL_WEIGHTS) for i in range(len(LEVELS))]
    plan: list[tuple[int, list[Any], list[tuple[str, int, int]]]] = []
    image_rows: list[dict[str, Any]] = []
    for n in range(images):
        image_id = n + 1
        created = now - timedelta(days=rnd.uniform(0, days))
        scans = sorted(created + (now - created) * rnd.random() for _ in range(2))
        times = [created, *scans]
        pending, not_applicable = n % 97 == 96, n % 50 == 49
        items: list[tuple[str, int, int]] = []  # (level, scan that opened it, scan that closed it or -1)
        counts = dict.fromkeys(LEVELS, 0)
        for _ in range(quota.get(n, 0)):
            draw = rnd.random()
            level = LEVELS[next(i for i, c in enumerate(cumulative) if draw <= c)]
            opened = 0 if draw < 0.7 or rnd.random() < 0.5 else 1 + (rnd.random() < 0.4)
            closed = opened + 1 + (rnd.random() < 0.5) if rnd.random() < closed_share and opened < 2 else -1
            closed = min(closed, 2)
            items.append((level, opened, closed))
            if closed < 0:
                counts[level] += 1
        health = "Pending" if pending else "NotApplicable" if not_applicable else \
            "Unhealthy" if any(counts.values()) else "Healthy"
        for level, count in counts.items():
            summary.open_by_level[level] += count
        summary.images_by_health[health] = summary.images_by_health.get(health, 0) + 1
        registry = n % registries
        repo = f"team-{(n % repositories) % 40}/service-{n % repositories}"
        manifest = digest("image", n)
        plan.append((image_id, [stamp(t) for t in times], items))
        image_rows.append({
            "id": image_id, "registry_id": registry + 1, "registry_host": hosts_names[registry], "repository": repo,
            "digest": manifest, "index_digest": "", "tags": [f"v{n // repositories}.{n % 10}", "latest"][: 1 + n % 2],
            "platform": "linux/amd64", "distro": "debian 12", "health": health,
            **{level.lower(): counts[level] for level in LEVELS},
            "packages": 0 if pending else sbom_packages,
            "sbom": "" if pending else native_sbom(f"{hosts_names[registry]}/{repo}", manifest, sbom_packages),
            "notes": [], "last_scan": None if pending else times[-1],
            "last_scan_id": "" if pending else f"scan-{n}",
            "assessed_at": None if pending else times[-1], "created_at": created})
    summary.images = _insert(engine, ImageRow.__table__, image_rows)
    summary.image_ids = [int(row["id"]) for row in image_rows]
    image_rows.clear()

    def finding_rows() -> Iterator[tuple[Any, ...]]:
        vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        about = "A seeded vulnerability used to measure page speed."
        for image_id, times, items in plan:
            for k, (level, opened, closed) in enumerate(items):
                pkg = f"lib-seed-{k % sbom_packages}"
                version = f"1.{k % 50}.{k % 7}-1"
                vuln = f"CVE-20{10 + k % 15}-{image_id % 9000 + k:05d}"
                fixed = f"1.{k % 50}.{k % 7 + 1}-1" if k % 3 else ""
                closed_at = times[closed] if closed >= 0 else None
                yield (image_id, f"{image_id}-{k}", "open" if closed_at is None else "closed", vuln, "[]",
                       f"{pkg}: seeded flaw {k}", about, level, "cvss_v3", (k * 37 % 90 + 10) / 10, vector, "[]",
                       "deb", pkg, f'{{"type":"deb","name":"{pkg}","version":"{version}"}}', version, fixed,
                       "fixed" if fixed else "not-fixed", "OS",
                       f'["https://security-tracker.debian.org/tracker/{vuln}"]', "", "", "[]", times[opened],
                       closed_at or times[opened], closed_at)

    summary.findings = _insert_rows(engine, FindingRow.__table__, _FINDING_COLUMNS, finding_rows())
    plan.clear()
    _seed_hosts(engine, summary, hosts, now, rnd)
    _seed_clusters(engine, summary, clusters, workloads, now, rnd)
    _seed_alerts(engine, summary, alerts, days, now, rnd)
    return summary


def _seed_hosts(engine: Engine, summary: SeedSummary, hosts: int, now: datetime, rnd: random.Random) -> None:
    host_rows, snapshot_rows = [], []
    for n in range(hosts):
        results = []
        for control, title, level in _CONTROLS:
            status = "FAIL" if rnd.random() < 0.1 else "NOT_APPLICABLE" if rnd.random() < 0.1 else "PASS"
            results.append({"id": control, "title": title, "status": status, "resource": None,
                            "evidence": f"seeded evidence for {control}", "remediation": f"Fix {control}.",
                            "level": level, "automated": True, "section": control.split(".")[0]})
        failing = sum(1 for r in results if r["status"] == "FAIL")
        health = "Unhealthy" if failing else "Healthy"
        host_rows.append({"id": n + 1, "name": f"docker-{n}", "hostname": f"docker-{n}.internal", "token_id": None,
                          "health": health, "inventory": {"docker_version": "24.0.7", "containers_running": 3},
                          "last_snapshot_id": n + 1, "last_seen": now, "created_at": now - timedelta(days=20)})
        snapshot_rows.append({"id": n + 1, "host_id": n + 1, "collected_at": now.isoformat(), "received_at": now,
                              "snapshot": "{}", "benchmark": "CIS Docker Benchmark v1.6.0", "health": health,
                              "failing": failing, "inventory": {}, "results": results})
    summary.hosts = _insert(engine, HostRow.__table__, host_rows)
    _insert(engine, HostSnapshotRow.__table__, snapshot_rows)


def _seed_clusters(engine: Engine, summary: SeedSummary, clusters: int, workloads: int, now: datetime,
                   rnd: random.Random) -> None:
    _insert(engine, ClusterRow.__table__, [
        {"id": c + 1, "name": f"cluster-{c}", "server": f"https://k8s-{c}.example.com:6443", "kubeconfig": "",
         "context": "", "token": "", "ca_cert": "", "interval": 0.0, "due_at": now, "health": "Unhealthy",
         "last_assessed": now, "last_error": "", "notes": [], "created_at": now - timedelta(days=10)}
        for c in range(clusters)])
    workload_rows, result_rows = [], []
    for n in range(workloads if clusters else 0):
        cluster = n % clusters + 1
        ref = f"Deployment/ns-{n % 7}/app-{n}"
        failing = False
        for check, title, severity in _K8S_CHECKS:
            fail = rnd.random() < 0.08
            failing |= fail
            result_rows.append({"cluster_id": cluster, "key": hashlib.sha256(f"{check}\0{ref}".encode()).hexdigest(),
                                "check_id": check, "title": title, "severity": severity, "standards": ["seed"],
                                "status": "Unhealthy" if fail else "Healthy", "resource": ref, "kind": "Deployment",
                                "namespace": f"ns-{n % 7}", "name": f"app-{n}",
                                "message": "seeded violation" if fail else "", "first_seen": now, "changed_at": now})
        workload_rows.append({"cluster_id": cluster, "kind": "Deployment", "namespace": f"ns-{n % 7}",
                              "name": f"app-{n}", "uid": "", "health": "Unhealthy" if failing else "Healthy",
                              "containers": [], "updated_at": now})
    summary.workloads = _insert(engine, ClusterWorkloadRow.__table__, workload_rows)
    _insert(engine, ClusterResultRow.__table__, result_rows)


def _seed_alerts(engine: Engine, summary: SeedSummary, alerts: int, days: int, now: datetime,
                 rnd: random.Random) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        for n in range(alerts):
            first = now - timedelta(seconds=rnd.uniform(0, days * 86400))
            priority, rank, severity = rnd.choice(_ALERT_SEVERITIES)
            yield {"fingerprint": hashlib.sha256(str(n).encode()).hexdigest(), "rule": f"Seeded rule {n % 12}",
                   "priority": priority, "priority_rank": rank, "severity": severity,
                   "tactic": rnd.choice(_TACTICS), "techniques": [], "tags": [], "source": "syscall",
                   "resource_type": "container", "resource": f"container:{n % 300:012x}",
                   "resource_name": f"app-{n % 300}", "image": "", "resource_info": {}, "hostname": "node-1",
                   "output": "seeded alert", "output_fields": {}, "first_seen": first,
                   "last_seen": min(now, first + timedelta(minutes=rnd.uniform(0, 30))), "count": 1,
                   "status": "new", "updated_at": first}

    summary.alerts = _insert(engine, AlertRow.__table__, list(rows()))


# Small estates through the store's own functions (what a scan, an agent push, a cluster assessment and
# the alert runtime write), for page tests that check exact numbers.

def vuln(vuln_id: str, package: str, version: str, level: str = "HIGH", fixed: str = "", score: float | None = 7.5,
         title: str = "", description: str = "", references: tuple[str, ...] = (), path: str = "lib/apk/db/installed",
         layer: str = "sha256:diff-0") -> Finding:
    """A finding of ``vuln_id`` in an apk package, with evidence and a location."""
    pkg = Package("apk", package, version, locations=(Location(path, layer),),
                  purl=f"pkg:apk/alpine/{package}@{version}")
    return Finding(id=vuln_id, aliases=(), package=pkg, installed_version=version, fixed_version=fixed,
                   fix_state="fixed" if fixed else "not-fixed", category="OS",
                   severity=Severity(level, "cvss_v3", score, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
                                     if score is not None else ""),
                   title=title, description=description, references=references,
                   evidence=(MatchEvidence(f"ALPINE-{vuln_id}", "Alpine:v3.11", package, version, "version",
                                           f"Alpine:v3.11 [0, {fixed or 'any'})"),))


def store_image(session: Session, repository: str, digest_text: str, findings: Sequence[Finding] = (),
                packages: Sequence[tuple[str, str]] = (("musl", "1.1.24-r2"),), tags: Sequence[str] = ("1.0",),
                host: str = "registry.example.com", health: str = "") -> ImageRow:
    """An image stored the way a scan stores it: SBOM, facts, findings, counts and health."""
    layers = (Layer("sha256:blob-0", "sha256:diff-0", size=2_000_000, created_by="ADD rootfs.tar /"),
              Layer("sha256:blob-1", "sha256:diff-1", size=500_000, created_by="RUN apk add --no-cache app"))
    pkgs = tuple(Package("apk", n, v, locations=(Location("lib/apk/db/installed", layers[i % 2].diff_id),),
                         purl=f"pkg:apk/alpine/{n}@{v}", licenses=("MIT",)) for i, (n, v) in enumerate(packages))
    sbom = Sbom(ImageMetadata(f"{host}/{repository}@{digest_text}", "registry", layers, manifest_digest=digest_text),
                Distro("alpine", "3.11.6", pretty_name="Alpine Linux v3.11"), pkgs)
    image = ensure_image(session, host, repository, digest_text)
    add_tags(image, tags)
    image.sbom = get_format("json").write(sbom)
    image.platform, image.distro, image.packages = "linux/amd64", "Alpine Linux v3.11", len(pkgs)
    image.last_scan, image.last_scan_id = utcnow(), "scan-test"
    verdict = health or ("Unhealthy" if findings else "Healthy")
    record(session, image, Assessment(verdict, tuple(findings), (), "test"), "scan")
    session.flush()
    return image


def store_host(session: Session, name: str, doc: dict[str, Any]) -> HostRow:
    """A registered host with one assessment of the snapshot ``doc`` (audited as the server does)."""
    _, host = register_host(session, name)
    session.flush()
    snapshot = snapshot_from_dict(doc)
    record_host(session, host, snapshot, json.dumps(doc), audit(snapshot))
    return host


def store_cluster(session: Session, cipher: Cipher, name: str, results: Sequence[K8sCheckResult],
                  workloads: Sequence[WorkloadInfo]) -> ClusterRow:
    """A registered cluster with one assessment."""
    cluster = add_cluster(session, cipher, name, server="https://k8s.example.com:6443", token="t")
    session.flush()
    record_cluster(session, cluster, results, workloads, ())
    return cluster


def store_alert(session: Session, rule: str, priority: str = "Critical", tactic: str = "Execution",
                when: datetime | None = None, container: str = "abcdef123456") -> AlertRow:
    """An alert recorded as the alert runtime records it."""
    row, _ = record_alert(session, AlertIn(rule=rule, priority=priority, output=f"{rule} fired", tactic=tactic,
                                           time=when or utcnow(), source="syscall",
                                           output_fields={"container.id": container, "container.name": "app"}),
                          timedelta(minutes=1))
    return row
