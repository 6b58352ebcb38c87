"""Registered Kubernetes clusters and their posture: credentials encrypted at rest, the latest check
result per (check, resource), workloads with their images, and the events recording what changed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError
from containerguard.models.k8s import FAIL, K8sCheckResult
from containerguard.sources.imageref import parse_ref

from .paging import Page, clamp, decode_int_cursor, page
from .secrets import Cipher
from .tables import ClusterEventRow, ClusterResultRow, ClusterRow, ClusterWorkloadRow, ImageRow, utcnow

HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"
PENDING = "Pending"
ASSESSED = "assessed"
NEW_FAILURE = "new-failure"
FIXED = "fixed"
ASSESS_FAILED = "assess-failed"
MAX_CHANGE_EVENTS = 200
"""Per assessment, at most this many one-per-result events (the run's summary event lists them all)."""


@dataclass(frozen=True)
class ClusterAccess:
    """What a collector needs to reach a cluster (secrets in clear, in memory only)."""

    id: int
    name: str
    kubeconfig: dict[str, Any] | None
    context: str
    server: str
    token: str
    ca_cert: str

    def config_dict(self) -> dict[str, Any]:
        """A kubeconfig as a dict: the stored one, or one built from server, token and CA."""
        if self.kubeconfig is not None:
            return self.kubeconfig
        cluster: dict[str, Any] = {"server": self.server}
        if self.ca_cert:
            import base64

            cluster["certificate-authority-data"] = base64.b64encode(self.ca_cert.encode()).decode()
        user = {"token": self.token} if self.token else {}
        return {"apiVersion": "v1", "kind": "Config", "current-context": "cg",
                "clusters": [{"name": "cg", "cluster": cluster}], "users": [{"name": "cg", "user": user}],
                "contexts": [{"name": "cg", "context": {"cluster": "cg", "user": "cg"}}]}


@dataclass(frozen=True)
class WorkloadInfo:
    """A workload as an assessment saw it."""

    kind: str
    namespace: str
    name: str
    uid: str = ""
    containers: tuple[dict[str, str], ...] = ()

    @property
    def ref(self) -> str:
        """``Kind/namespace/name``, as check results name resources."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass
class PostureDiff:
    """What one assessment changed."""

    new_failures: list[dict[str, str]] = field(default_factory=list)
    fixed: list[dict[str, str]] = field(default_factory=list)
    results: int = 0
    failing: int = 0
    workloads: int = 0
    baseline: bool = False
    """True for a cluster's first assessment: every failure is new, no per-result events are written."""


def _check_url(server: str) -> str:
    text = server.strip()
    parsed = urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"API server must be an http(s):// URL, got {server!r}")
    return text.rstrip("/")


def parse_kubeconfig(text: str, context: str = "") -> tuple[dict[str, Any], str]:
    """The kubeconfig ``text`` as a dict and the API server URL of ``context`` (else its current
    context); :class:`ConfigError` when it is not a usable kubeconfig."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"kubeconfig is not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("kubeconfig must be a mapping (apiVersion: v1, kind: Config)")
    name = context or str(data.get("current-context") or "")
    contexts = {str(c.get("name")): c.get("context") or {} for c in data.get("contexts") or []
                if isinstance(c, dict)}
    clusters = {str(c.get("name")): c.get("cluster") or {} for c in data.get("clusters") or []
                if isinstance(c, dict)}
    if name not in contexts:
        raise ConfigError(f"kubeconfig has no context {name!r}")
    ctx = contexts[name] if isinstance(contexts[name], dict) else {}
    cluster = clusters.get(str(ctx.get("cluster") or ""))
    if not isinstance(cluster, dict) or not cluster.get("server"):
        raise ConfigError(f"kubeconfig context {name!r} names no cluster with a server")
    return data, _check_url(str(cluster["server"]))


def add_cluster(session: Session, cipher: Cipher, name: str, *, kubeconfig: str = "", context: str = "",
                server: str = "", token: str = "", ca_cert: str = "", interval: float = 0.0) -> ClusterRow:
    """Register a cluster from a kubeconfig, or from its API server URL, a bearer token and its CA."""
    if bool(kubeconfig.strip()) == bool(server.strip()):
        raise ConfigError("give either kubeconfig, or server (with token and ca_cert)")
    if interval < 0:
        raise ConfigError("interval must be >= 0 seconds")
    if kubeconfig.strip():
        _, server = parse_kubeconfig(kubeconfig, context)
    else:
        server = _check_url(server)
        if ca_cert.strip() and "-----BEGIN CERTIFICATE-----" not in ca_cert:
            raise ConfigError("ca_cert must be a PEM certificate")
    row = ClusterRow(name=name, server=server, kubeconfig=cipher.encrypt(kubeconfig.strip()), context=context,
                     token=cipher.encrypt(token.strip()), ca_cert=ca_cert.strip(), interval=interval,
                     due_at=utcnow(), health=PENDING, notes=[], last_error="")
    taken = ConfigError(f"a cluster named {name!r} exists already")
    if session.scalars(select(ClusterRow.id).where(ClusterRow.name == name)).first() is not None:
        raise taken
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise taken from exc
    return row


def list_clusters(session: Session) -> list[ClusterRow]:
    """Every cluster, oldest first."""
    return list(session.scalars(select(ClusterRow).order_by(ClusterRow.id)))


def get_cluster(session: Session, cluster_id: int) -> ClusterRow | None:
    """One cluster by id."""
    return session.get(ClusterRow, cluster_id)


def delete_cluster(session: Session, cluster_id: int) -> bool:
    """Remove a cluster with its results, workloads and events."""
    row = session.get(ClusterRow, cluster_id)
    if row is None:
        return False
    # Explicit deletes: SQLite enforces ON DELETE CASCADE only with the foreign_keys pragma.
    for table in (ClusterEventRow, ClusterResultRow, ClusterWorkloadRow):
        session.execute(delete(table).where(table.cluster_id == cluster_id))
    session.delete(row)
    return True


def access(row: ClusterRow, cipher: Cipher) -> ClusterAccess:
    """The decrypted access details of ``row``."""
    text = cipher.decrypt(row.kubeconfig)
    config = parse_kubeconfig(text, row.context)[0] if text else None
    return ClusterAccess(row.id, row.name, config, row.context, row.server, cipher.decrypt(row.token), row.ca_cert)


def request_assessment(session: Session, cluster_id: int) -> bool:
    """Make the cluster due now (the scheduler picks it up); False when it does not exist."""
    done = session.execute(update(ClusterRow).where(ClusterRow.id == cluster_id).values(due_at=utcnow()))
    return bool(getattr(done, "rowcount", 0))


def claim_due(session: Session, default_interval: float, now: datetime | None = None) -> list[int]:
    """Clusters due for assessment, each claimed by moving its ``due_at`` to the next run with a
    conditional update, so two server processes never assess the same cluster for the same slot."""
    now = now or utcnow()
    claimed = []
    for row in list(session.scalars(select(ClusterRow).where(ClusterRow.due_at <= now).order_by(ClusterRow.due_at))):
        interval = row.interval or default_interval
        done = session.execute(update(ClusterRow).where(ClusterRow.id == row.id, ClusterRow.due_at == row.due_at)
                               .values(due_at=now + timedelta(seconds=interval)))
        if getattr(done, "rowcount", 0):
            claimed.append(row.id)
    session.commit()
    return claimed


def result_key(check_id: str, resource: str) -> str:
    """What successive assessments of a cluster diff results on."""
    return hashlib.sha256(f"{check_id}\0{resource}".encode()).hexdigest()


def _change(row: ClusterResultRow) -> dict[str, str]:
    return {"check_id": row.check_id, "resource": row.resource, "severity": row.severity, "message": row.message}


def record_assessment(session: Session, cluster: ClusterRow, results: Sequence[K8sCheckResult],
                      workloads: Iterable[WorkloadInfo], notes: Sequence[str]) -> PostureDiff:
    """Store an assessment: upsert each result, drop results of resources gone from the cluster,
    replace the workloads, and record new failures and fixes as events."""
    now = utcnow()
    diff = PostureDiff(baseline=cluster.last_assessed is None)
    old = {r.key: r for r in session.scalars(select(ClusterResultRow).where(ClusterResultRow.cluster_id == cluster.id))}
    seen: set[str] = set()
    failing_refs: set[str] = set()
    for result in results:
        key = result_key(result.check_id, result.resource)
        if key in seen:
            continue
        seen.add(key)
        status = UNHEALTHY if result.status == FAIL else HEALTHY
        if status == UNHEALTHY:
            failing_refs.add(result.resource)
        row = old.get(key)
        if row is None:
            row = ClusterResultRow(cluster_id=cluster.id, key=key, first_seen=now, changed_at=now)
            session.add(row)
            was = ""
        else:
            was = row.status
        row.check_id, row.title, row.severity = result.check_id, result.title, result.severity
        row.standards = list(result.standards)
        row.resource, row.kind, row.namespace, row.name = result.resource, result.kind, result.namespace, result.name
        row.message = result.message
        if was and was != status:
            row.changed_at = now
        row.status = status
        if status == UNHEALTHY and was != UNHEALTHY:
            diff.new_failures.append(_change(row))
        elif status == HEALTHY and was == UNHEALTHY:
            diff.fixed.append(_change(row))
    for key, row in old.items():
        if key not in seen:
            if row.status == UNHEALTHY:
                diff.fixed.append(_change(row) | {"message": "resource no longer in the cluster"})
            session.delete(row)
    diff.results = len(seen)
    diff.failing = sum(1 for r in results if r.status == FAIL)
    _replace_workloads(session, cluster.id, workloads, failing_refs, now, diff)
    cluster.health = UNHEALTHY if failing_refs else HEALTHY
    cluster.last_assessed, cluster.last_error, cluster.notes = now, "", list(notes)
    _events(session, cluster, diff)
    session.flush()
    return diff


def _replace_workloads(session: Session, cluster_id: int, workloads: Iterable[WorkloadInfo],
                       failing_refs: set[str], now: datetime, diff: PostureDiff) -> None:
    existing = {(w.kind, w.namespace, w.name): w for w in
                session.scalars(select(ClusterWorkloadRow).where(ClusterWorkloadRow.cluster_id == cluster_id))}
    kept: set[tuple[str, str, str]] = set()
    for info in workloads:
        ident = (info.kind, info.namespace, info.name)
        if ident in kept:
            continue
        kept.add(ident)
        row = existing.get(ident)
        if row is None:
            row = ClusterWorkloadRow(cluster_id=cluster_id, kind=info.kind, namespace=info.namespace, name=info.name)
            session.add(row)
        row.uid, row.containers, row.updated_at = info.uid, [dict(c) for c in info.containers], now
        row.health = UNHEALTHY if info.ref in failing_refs else HEALTHY
    for ident, row in existing.items():
        if ident not in kept:
            session.delete(row)
    diff.workloads = len(kept)


def _events(session: Session, cluster: ClusterRow, diff: PostureDiff) -> None:
    summary = (f"{diff.results} result(s), {diff.failing} failing; {len(diff.new_failures)} new failure(s), "
               f"{len(diff.fixed)} fixed")
    session.add(ClusterEventRow(cluster_id=cluster.id, kind=ASSESSED, message=summary, created_at=utcnow(), data={
        "results": diff.results, "failing": diff.failing, "workloads": diff.workloads, "baseline": diff.baseline,
        "new_failures": diff.new_failures, "fixed": diff.fixed}))
    if diff.baseline:
        return
    changes = [(NEW_FAILURE, c) for c in diff.new_failures] + [(FIXED, c) for c in diff.fixed]
    for kind, change in changes[:MAX_CHANGE_EVENTS]:
        verb = "now fails" if kind == NEW_FAILURE else "fixed"
        session.add(ClusterEventRow(cluster_id=cluster.id, kind=kind, data=change, created_at=utcnow(),
                                    message=f"{change['check_id']} {verb} on {change['resource']}"))


def record_failure(session: Session, cluster: ClusterRow, error: str) -> None:
    """An assessment that could not collect: kept on the cluster and as an event (results stay)."""
    cluster.last_error = error
    session.add(ClusterEventRow(cluster_id=cluster.id, kind=ASSESS_FAILED, message=error, data={},
                                created_at=utcnow()))
    session.flush()


def list_results(session: Session, cluster_id: int, status: str = "", check_id: str = "", resource: str = "",
                 cursor: str = "", limit: int = 100) -> Page[ClusterResultRow]:
    """A page of a cluster's results (filters are exact matches; empty matches everything)."""
    limit = clamp(limit)
    query = select(ClusterResultRow).where(ClusterResultRow.cluster_id == cluster_id)
    if status:
        query = query.where(ClusterResultRow.status == status)
    if check_id:
        query = query.where(ClusterResultRow.check_id == check_id)
    if resource:
        query = query.where(ClusterResultRow.resource == resource)
    if cursor:
        query = query.where(ClusterResultRow.id > decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(ClusterResultRow.id).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def list_workloads(session: Session, cluster_id: int, health: str = "", cursor: str = "",
                   limit: int = 100) -> Page[ClusterWorkloadRow]:
    """A page of a cluster's workloads."""
    limit = clamp(limit)
    query = select(ClusterWorkloadRow).where(ClusterWorkloadRow.cluster_id == cluster_id)
    if health:
        query = query.where(ClusterWorkloadRow.health == health)
    if cursor:
        query = query.where(ClusterWorkloadRow.id > decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(ClusterWorkloadRow.id).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def list_cluster_events(session: Session, cluster_id: int, kind: str = "", cursor: str = "",
                        limit: int = 100) -> Page[ClusterEventRow]:
    """A page of a cluster's events, oldest first."""
    limit = clamp(limit)
    query = select(ClusterEventRow).where(ClusterEventRow.cluster_id == cluster_id)
    if kind:
        query = query.where(ClusterEventRow.kind == kind)
    if cursor:
        query = query.where(ClusterEventRow.id > decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(ClusterEventRow.id).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def _digest(text: str) -> str:
    # Runtimes report imageID as "repo@sha256:…" or "docker-pullable://repo@sha256:…".
    return text.rsplit("@", 1)[1] if "@" in text else (text if text.startswith("sha256:") else "")


def linked_images(session: Session, image: str, image_id: str = "") -> list[ImageRow]:
    """Stored images a container runs: by digest (pinned in the reference or reported by the
    runtime) in the same repository, else by tag."""
    try:
        ref = parse_ref(image)
    except ConfigError:
        return []
    candidates = list(session.scalars(select(ImageRow).where(
        ImageRow.registry_host == ref.host, ImageRow.repository == ref.repository).order_by(ImageRow.id)))
    digest = ref.digest or _digest(image_id)
    if digest:
        return [r for r in candidates if digest in (r.digest, r.index_digest)]
    tag = ref.tag or "latest"
    return [r for r in candidates if tag in (r.tags or [])]
