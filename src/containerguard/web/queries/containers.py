"""Docker hosts and Kubernetes clusters for the Containers tab: list pages read only the columns and
inventory facts they show, workload counts are grouped in SQL, workloads are paged in SQL, and
containers are linked to the stored images they run (through the store's ``linked_images``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from containerguard.store import clusters as cluster_repo
from containerguard.store import hosts as host_repo
from containerguard.store.paging import Page, clamp, decode_cursor, page
from containerguard.store.tables import ClusterRow, ClusterWorkloadRow, HostRow, HostSnapshotRow, ImageRow

HEALTH_ORDER = ("Unhealthy", "Pending", "Healthy")
"""Worst first: a container whose tag matches several stored platforms shows the worst of them."""


@dataclass(frozen=True)
class ImageLink:
    """A stored image a container runs, with its vulnerability health."""

    id: int
    label: str
    health: str


@dataclass(frozen=True)
class HostLine:
    """One row of the host list."""

    id: int
    name: str
    hostname: str
    docker_version: str
    images: int | None
    running: int | None
    total: int | None
    health: str
    failing: int | None
    """Failed scored CIS controls in the latest assessment (None before the first one)."""
    last_seen: datetime | None


@dataclass(frozen=True)
class ContainerLine:
    """A container of a host's latest inventory."""

    name: str
    image: str
    state: str
    images: tuple[ImageLink, ...]

    @property
    def image_health(self) -> str:
        """The worst health of the stored images it runs ("" when none is stored)."""
        return worst(i.health for i in self.images)


@dataclass(frozen=True)
class HostDetail:
    """A host page: facts, containers and the failed controls of the latest assessment."""

    host: HostRow
    facts: dict[str, Any]
    containers: list[ContainerLine]
    failed: list[dict[str, Any]]
    """Failed controls per resource: the host's sub-assessments, as the API lists them."""
    benchmark: str
    assessed: datetime | None
    assessment_id: int | None


@dataclass(frozen=True)
class ClusterLine:
    """One row of the cluster list."""

    id: int
    name: str
    server: str
    health: str
    last_assessed: datetime | None
    last_error: str
    healthy: int
    unhealthy: int


@dataclass(frozen=True)
class WorkloadLine:
    """A workload of a cluster with its containers' images."""

    id: int
    kind: str
    namespace: str
    name: str
    health: str
    containers: tuple[tuple[str, str, tuple[ImageLink, ...]], ...]
    """(container name, image reference, stored images it runs)."""


def worst(healths: Iterable[str]) -> str:
    """The worst of ``healths`` by :data:`HEALTH_ORDER` ("" for none)."""
    found = [h for h in healths if h]
    if not found:
        return ""
    return str(min(found, key=lambda h: HEALTH_ORDER.index(h) if h in HEALTH_ORDER else 1))


def short_ref(ref: str) -> str:
    """An image reference for a table cell: a pinned digest cut to its first 12 hex digits."""
    name, at, digest = ref.partition("@")
    algo, colon, hexpart = digest.partition(":")
    return f"{name}@{algo}:{hexpart[:12]}" if at and colon and len(hexpart) > 12 else ref


def _link(row: ImageRow) -> ImageLink:
    tag = f":{row.tags[0]}" if row.tags else ""
    label = f"{row.registry_host}/{row.repository}{tag}"
    if row.platform:
        label += f" ({row.platform})"
    return ImageLink(row.id, label, row.health)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def host_page(session: Session, cursor: str = "", limit: int = 50) -> Page[HostLine]:
    """A page of hosts by name, each with the failing count of its latest assessment. Only the
    inventory's scalar facts are read (JSON paths in SQL), never the container lists."""
    limit = clamp(limit)
    inv = HostRow.inventory
    query = (select(HostRow.id, HostRow.name, HostRow.hostname, HostRow.health, HostRow.last_seen,
                    inv["docker_version"].as_string(), inv["images"].as_integer(),
                    inv["containers_running"].as_integer(), inv["containers_stopped"].as_integer(),
                    HostSnapshotRow.failing)
             .outerjoin(HostSnapshotRow, HostSnapshotRow.id == HostRow.last_snapshot_id))
    if cursor:
        query = query.where(HostRow.name > decode_cursor(cursor))
    rows = session.execute(query.order_by(HostRow.name).limit(limit + 1)).all()
    lines = []
    for hid, name, hostname, health, seen, version, images, running, stopped, failing in rows:
        run, stop = _int(running), _int(stopped)
        total = run + stop if run is not None and stop is not None else None
        lines.append(HostLine(hid, name, hostname or "", version or "", _int(images), run, total, health,
                              failing, seen))
    return page(lines, limit, lines[limit - 1].name if len(lines) > limit else None)


def host_detail(session: Session, host_id: int) -> HostDetail | None:
    """One host with its containers (linked to stored images) and the failed controls of its latest
    assessment; None when there is no such host."""
    host = host_repo.get_host(session, host_id)
    if host is None:
        return None
    inv = dict(host.inventory or {})
    containers = []
    for c in inv.get("containers") or []:
        if not isinstance(c, dict):
            continue
        linked = tuple(_link(r) for r in host_repo.linked_images(session, c))
        containers.append(ContainerLine(str(c.get("name") or ""), str(c.get("image") or ""),
                                        str(c.get("state") or ""), linked))
    containers.sort(key=lambda c: (c.state != "running", c.name))
    snapshot = host_repo.get_snapshot(session, host_id)
    results = list(snapshot.results or []) if snapshot is not None else []
    failed = _brief(host_repo.failed(results))
    facts = {k: inv.get(k) for k in ("hostname", "os", "kernel", "docker_version", "api_version",
                                      "storage_driver", "images", "containers_running", "containers_stopped")}
    return HostDetail(host, facts, containers, failed, snapshot.benchmark if snapshot else "",
                      snapshot.received_at if snapshot else None, snapshot.id if snapshot else None)


def _brief(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("id", "title", "resource", "level", "automated", "evidence", "remediation", "section")
    out = [{k: r.get(k) for k in keys} for r in results]
    out.sort(key=lambda r: (_control_key(str(r["id"] or "")), str(r["resource"] or "")))
    return out


def _control_key(control: str) -> tuple[tuple[int, int, str], ...]:
    # "5.10" sorts after "5.9", as the benchmark numbers them (a non-numeric part sorts after numbers).
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in control.split("."))


def cluster_lines(session: Session) -> list[ClusterLine]:
    """Every cluster with its healthy and unhealthy workload counts (one grouped count query)."""
    counts: dict[tuple[int, str], int] = {}
    grouped = (select(ClusterWorkloadRow.cluster_id, ClusterWorkloadRow.health, func.count())
               .group_by(ClusterWorkloadRow.cluster_id, ClusterWorkloadRow.health))
    for cluster_id, health, n in session.execute(grouped):
        counts[(cluster_id, health)] = int(n)
    rows = session.execute(select(ClusterRow.id, ClusterRow.name, ClusterRow.server, ClusterRow.health,
                                  ClusterRow.last_assessed, ClusterRow.last_error).order_by(ClusterRow.name))
    return [ClusterLine(cid, name, server, health, assessed, error or "",
                        counts.get((cid, cluster_repo.HEALTHY), 0), counts.get((cid, cluster_repo.UNHEALTHY), 0))
            for cid, name, server, health, assessed, error in rows]


def cluster_counts(session: Session, cluster_id: int) -> dict[str, int]:
    """Workloads of one cluster per health."""
    grouped = (select(ClusterWorkloadRow.health, func.count()).where(ClusterWorkloadRow.cluster_id == cluster_id)
               .group_by(ClusterWorkloadRow.health))
    return {health: int(n) for health, n in session.execute(grouped)}


def workload_page(session: Session, cluster_id: int, health: str = "", cursor: str = "",
                  limit: int = 50) -> Page[WorkloadLine]:
    """A page of the cluster's workloads (paged by the store, in SQL), each container linked to the
    stored images it runs."""
    found = cluster_repo.list_workloads(session, cluster_id, health=health, cursor=cursor, limit=limit)
    lines = []
    for w in found.items:
        containers = tuple(
            (str(c.get("name") or ""), str(c.get("image") or ""),
             tuple(_link(r) for r in cluster_repo.linked_images(session, str(c.get("image") or ""),
                                                                str(c.get("image_id") or ""))))
            for c in w.containers or [] if isinstance(c, dict))
        lines.append(WorkloadLine(w.id, w.kind, w.namespace, w.name, w.health, containers))
    return Page(lines, found.next)
