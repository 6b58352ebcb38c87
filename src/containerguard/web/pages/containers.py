"""Containers: every Docker host (engine, images, containers, CIS result) and every Kubernetes cluster
(health, workloads), with a page per host and per cluster."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from containerguard.api.deps import Ctx
from containerguard.errors import ConfigError
from containerguard.store import clusters as cluster_repo
from containerguard.store.clusters import HEALTHY, UNHEALTHY

from ..queries.containers import cluster_counts, cluster_lines, host_detail, host_page, short_ref, workload_page
from ..render import render
from ..session import Viewer, WebViewer

router = APIRouter()
PAGE = 50


def _problem(request: Request, viewer: Viewer, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", viewer, status=status, title=title, message=message)


@router.get("/containers")
def containers(request: Request, viewer: WebViewer, ctx: Ctx, cursor: str = "") -> Response:
    """Docker hosts (paged by name) and Kubernetes clusters."""
    with ctx.store.session() as s:
        try:
            hosts = host_page(s, cursor, PAGE)
        except ConfigError as exc:
            return _problem(request, viewer, 400, "Bad page link", str(exc))
        clusters = cluster_lines(s)
    server_url = ctx.config.public_url or str(request.base_url).rstrip("/")
    return render(request, "containers.html", viewer, title="Containers", hosts=hosts, clusters=clusters,
                  cursor=cursor, server_url=server_url)


@router.get("/containers/hosts/{host_id}")
def host(request: Request, viewer: WebViewer, ctx: Ctx, host_id: int) -> Response:
    """One Docker host: its engine, its containers with the stored images they run, and the CIS
    controls its latest assessment failed."""
    with ctx.store.session() as s:
        detail = host_detail(s, host_id)
    if detail is None:
        return _problem(request, viewer, 404, "No such host", "The host does not exist (it may have been removed).")
    return render(request, "containers_host.html", viewer, title=f"Host {detail.host.name}", d=detail,
                  short_ref=short_ref)


@router.get("/containers/clusters/{cluster_id}")
def cluster(request: Request, viewer: WebViewer, ctx: Ctx, cluster_id: int, health: str = "",
            cursor: str = "") -> Response:
    """One Kubernetes cluster and a page of its workloads (``health`` filters them)."""
    if health not in ("", HEALTHY, UNHEALTHY):
        return _problem(request, viewer, 400, "Bad filter", f"health must be {HEALTHY} or {UNHEALTHY}")
    with ctx.store.session() as s:
        row = cluster_repo.get_cluster(s, cluster_id)
        if row is None:
            return _problem(request, viewer, 404, "No such cluster",
                            "The cluster does not exist (it may have been removed).")
        try:
            workloads = workload_page(s, cluster_id, health, cursor, PAGE)
        except ConfigError as exc:
            return _problem(request, viewer, 400, "Bad page link", str(exc))
        counts = cluster_counts(s, cluster_id)
    return render(request, "containers_cluster.html", viewer, title=f"Cluster {row.name}", cluster=row,
                  workloads=workloads, counts=counts, health=health, cursor=cursor, params={"health": health},
                  HEALTHY=HEALTHY, UNHEALTHY=UNHEALTHY, short_ref=short_ref)
