"""The tables, as SQLAlchemy 2 declarative classes. The schema itself is created by the Alembic
migrations under ``store/migrations`` (kept in step with these classes by a test)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python (SQLite keeps no zone; PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class RegistryRow(Base):
    """A registered registry. ``password`` is Fernet ciphertext (see :mod:`.secrets`)."""

    __tablename__ = "registries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    host: Mapped[str] = mapped_column(String(300), index=True)
    """``host[:port]`` as image references name it."""
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(300), default="")
    password: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_crawl: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    crawl_error: Mapped[str] = mapped_column(Text, default="")


class TokenRow(Base):
    """An API token (admin, reader, agent) or a registry's webhook secret: only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), nullable=True, index=True)
    """Set for webhook secrets made by registering a registry: the events it signs belong to it."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ImageRow(Base):
    """One image (one platform manifest) in one repository of one registry."""

    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("registry_host", "repository", "digest", name="uq_image"),
                      # The image list sorts by last scan: without it SQLite walks every row (each
                      # holding its SBOM before ``last_scan``) to find the newest.
                      Index("ix_images_last_scan", "last_scan", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id", ondelete="SET NULL"), nullable=True, index=True)
    registry_host: Mapped[str] = mapped_column(String(300))
    """``host[:port]``."""
    repository: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(100), index=True)
    """The platform manifest's digest."""
    index_digest: Mapped[str] = mapped_column(String(100), default="", index=True)
    """The image index it was pushed under ("" for a single-platform push)."""
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    platform: Mapped[str] = mapped_column(String(100), default="")
    distro: Mapped[str] = mapped_column(String(200), default="")
    health: Mapped[str] = mapped_column(String(20), default="Pending", index=True)
    critical: Mapped[int] = mapped_column(Integer, default=0)
    high: Mapped[int] = mapped_column(Integer, default=0)
    medium: Mapped[int] = mapped_column(Integer, default=0)
    low: Mapped[int] = mapped_column(Integer, default=0)
    negligible: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    packages: Mapped[int] = mapped_column(Integer, default=0)
    sbom: Mapped[str] = mapped_column(Text, default="")
    """The SBOM in containerguard's native JSON (re-assessment re-matches it, no pull)."""
    notes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    last_scan: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_scan_id: Mapped[str] = mapped_column(String(40), default="")
    assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class FindingRow(Base):
    """One vulnerability in one package of one image (a sub-assessment). Closed ones are kept."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_image_state", "image_id", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    """sha256 of (vulnerability id, package type, name, version, path): what a re-assessment diffs on."""
    state: Mapped[str] = mapped_column(String(10), default="open")
    """``open`` or ``closed`` (fixed by a newer advisory, or the package changed)."""
    vuln_id: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20))
    severity_source: Mapped[str] = mapped_column(String(40), default="")
    cvss_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    cvss_vector: Mapped[str] = mapped_column(String(300), default="")
    severities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    package_type: Mapped[str] = mapped_column(String(40))
    package_name: Mapped[str] = mapped_column(String(300))
    package: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    installed_version: Mapped[str] = mapped_column(String(200))
    fixed_version: Mapped[str] = mapped_column(String(200), default="")
    fix_state: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(20), default="")
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[str] = mapped_column(String(40), default="")
    modified: Mapped[str] = mapped_column(String(40), default="")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ScanRow(Base):
    """A scan job: the durable queue the workers claim from."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_status_due", "status", "not_before"),
                      Index("ix_scans_target", "registry_host", "repository", "digest"))
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ref: Mapped[str] = mapped_column(String(1000))
    registry_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries.id", ondelete="SET NULL"), nullable=True)
    registry_host: Mapped[str] = mapped_column(String(300), default="")
    repository: Mapped[str] = mapped_column(String(500), default="")
    digest: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    """``queued``, ``running``, ``done`` or ``failed``."""
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    not_before: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    """A retried scan waits until then (backoff)."""
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    images: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Ids of the image rows the scan wrote (one per platform)."""


class EventRow(Base):
    """Something that happened to an image: a health change, a re-assessment diff, a failed scan."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StateRow(Base):
    """Small key/value facts the server keeps between runs (e.g. the vulnerability DB last assessed)."""

    __tablename__ = "server_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class ClusterRow(Base):
    """A registered Kubernetes cluster. ``kubeconfig`` and ``token`` are Fernet ciphertext."""

    __tablename__ = "clusters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    server: Mapped[str] = mapped_column(String(500), default="")
    """API server URL (from the kubeconfig's context when registered with one)."""
    kubeconfig: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(String(200), default="")
    token: Mapped[str] = mapped_column(Text, default="")
    ca_cert: Mapped[str] = mapped_column(Text, default="")
    """PEM of the API server's CA (public, kept in clear)."""
    interval: Mapped[float] = mapped_column(Float, default=0.0)
    """Seconds between assessments (0: the server default)."""
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    health: Mapped[str] = mapped_column(String(20), default="Pending")
    last_assessed: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Kinds the credentials could not list, checks not run (from the last assessment)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClusterWorkloadRow(Base):
    """A workload (top-most controller, or a bare pod) of a cluster, with the images it runs."""

    __tablename__ = "cluster_workloads"
    __table_args__ = (UniqueConstraint("cluster_id", "kind", "namespace", "name", name="uq_cluster_workload"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(100))
    namespace: Mapped[str] = mapped_column(String(300), default="")
    name: Mapped[str] = mapped_column(String(300))
    uid: Mapped[str] = mapped_column(String(100), default="")
    health: Mapped[str] = mapped_column(String(20), default="Healthy")
    containers: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    """``{name, kind, image, image_id}`` per container (``image_id`` from running pods' status)."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClusterResultRow(Base):
    """The latest verdict of one check on one resource of a cluster (a sub-assessment)."""

    __tablename__ = "cluster_results"
    __table_args__ = (UniqueConstraint("cluster_id", "key", name="uq_cluster_result"),
                      Index("ix_cluster_results_cluster_status", "cluster_id", "status"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    """sha256 of (check id, resource): what successive assessments diff on."""
    check_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(20))
    standards: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))
    """``Healthy`` or ``Unhealthy``."""
    resource: Mapped[str] = mapped_column(String(800))
    kind: Mapped[str] = mapped_column(String(100), default="")
    namespace: Mapped[str] = mapped_column(String(300), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    """When the status last changed."""


class ClusterEventRow(Base):
    """Something that happened to a cluster's posture: an assessment, a new failure, a fix, an error."""

    __tablename__ = "cluster_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertRow(Base):
    """A runtime alert: one rule firing on one resource, repeats within the dedup window counted up."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_fingerprint_last", "fingerprint", "last_seen"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """sha256 of (rule, resource): what deduplication groups on."""
    rule: Mapped[str] = mapped_column(String(300), index=True)
    priority: Mapped[str] = mapped_column(String(20))
    priority_rank: Mapped[int] = mapped_column(Integer)
    """0 Emergency … 7 Debug (a "priority at least" filter is a comparison)."""
    severity: Mapped[str] = mapped_column(String(20), index=True)
    tactic: Mapped[str] = mapped_column(String(100), default="", index=True)
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(40), default="")
    resource_type: Mapped[str] = mapped_column(String(40), default="")
    resource: Mapped[str] = mapped_column(String(500), index=True)
    resource_name: Mapped[str] = mapped_column(String(300), default="")
    image: Mapped[str] = mapped_column(String(500), default="")
    resource_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hostname: Mapped[str] = mapped_column(String(300), default="")
    output: Mapped[str] = mapped_column(Text, default="")
    output_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    """``new``, ``acknowledged`` or ``dismissed``."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class HostRow(Base):
    """A registered Docker host: its agent token and the latest inventory and health it reported."""

    __tablename__ = "hosts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    hostname: Mapped[str] = mapped_column(String(300), default="")
    """The engine's host name (``docker info`` Name) from the latest snapshot."""
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), nullable=True, index=True)
    """The host-scoped ``agent`` token made at registration: only it may push this host's snapshots."""
    health: Mapped[str] = mapped_column(String(20), default="Pending")
    inventory: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The latest snapshot's inventory (engine facts, counts, containers with their image digests)."""
    last_snapshot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class HostSnapshotRow(Base):
    """One snapshot an agent pushed, with the audit the server ran on it (the host's history)."""

    __tablename__ = "host_snapshots"
    __table_args__ = (Index("ix_host_snapshots_host_received", "host_id", "received_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    collected_at: Mapped[str] = mapped_column(String(40), default="")
    """When the agent collected it (its clock, as the snapshot says)."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    snapshot: Mapped[str] = mapped_column(Text)
    """The HostSnapshot JSON as received (re-auditable with a newer benchmark)."""
    benchmark: Mapped[str] = mapped_column(String(200), default="")
    health: Mapped[str] = mapped_column(String(20))
    failing: Mapped[int] = mapped_column(Integer, default=0)
    """Failed scored controls (sub-assessments)."""
    inventory: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Every check result: id, title, status, resource, evidence, remediation, level, automated, section."""


class DailyStatsRow(Base):
    """The estate's posture on one UTC day, for the dashboard's 30-day trends: today's row is rewritten
    while the day lasts; missing past days are reconstructed once from finding, snapshot and alert history."""

    __tablename__ = "daily_stats"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    """``YYYY-MM-DD`` (UTC)."""
    healthy: Mapped[int] = mapped_column(Integer, default=0)
    """Resources with a Healthy verdict: images, Docker hosts and workloads."""
    unhealthy: Mapped[int] = mapped_column(Integer, default=0)
    images_unhealthy: Mapped[int] = mapped_column(Integer, default=0)
    hosts_unhealthy: Mapped[int] = mapped_column(Integer, default=0)
    workloads_unhealthy: Mapped[int] = mapped_column(Integer, default=0)
    critical: Mapped[int] = mapped_column(Integer, default=0)
    """Open findings per severity at the end of the day (or when the row was written, for today)."""
    high: Mapped[int] = mapped_column(Integer, default=0)
    medium: Mapped[int] = mapped_column(Integer, default=0)
    low: Mapped[int] = mapped_column(Integer, default=0)
    negligible: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    """Alerts first seen that day."""
    source: Mapped[str] = mapped_column(String(20), default="live")
    """``live`` (recorded while the day lasted) or ``history`` (reconstructed afterwards)."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
