"""Kubernetes clusters: register (credentials encrypted), list, remove, assess on demand, and read
their posture: per-resource check results (Defender-shaped sub-assessments), workloads with links
to their images' vulnerability assessments, and the events recording changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from containerguard.jobs import clusters as jobs
from containerguard.store import clusters as repo
from containerguard.store.tables import ClusterEventRow, ClusterResultRow, ClusterRow, ClusterWorkloadRow

from ..deps import Admin, Ctx, Db, Reader
from ..shapes import display_severity, iso

router = APIRouter(prefix="/api/v1/clusters", tags=["clusters"])


class ClusterIn(BaseModel):
    """A cluster to register: a kubeconfig, or the API server URL with a bearer token and its CA."""

    name: str = Field(min_length=1, max_length=200)
    kubeconfig: str | None = Field(default=None, description="kubeconfig file content (YAML or JSON)")
    context: str | None = Field(default=None, max_length=200, description="kubeconfig context (default: current)")
    server: str | None = Field(default=None, max_length=500, description="https://API-SERVER[:PORT]")
    token: str | None = Field(default=None, description="bearer token (e.g. a service account's)")
    ca_cert: str | None = Field(default=None, description="PEM of the API server's CA")
    interval: float = Field(default=0.0, ge=0, description="seconds between assessments (0: server default)")


def cluster_doc(row: ClusterRow) -> dict[str, Any]:
    """A cluster (never its credentials)."""
    return {"id": row.id, "name": row.name, "server": row.server, "context": row.context or None,
            "credentials": "kubeconfig" if row.kubeconfig else "token", "has_ca": bool(row.ca_cert),
            "interval": row.interval or None, "health": row.health, "last_assessed": iso(row.last_assessed),
            "next_assessment": iso(row.due_at), "last_error": row.last_error or None, "notes": list(row.notes or []),
            "created_at": iso(row.created_at),
            "links": {"assessments": f"/api/v1/clusters/{row.id}/assessments",
                      "workloads": f"/api/v1/clusters/{row.id}/workloads",
                      "events": f"/api/v1/clusters/{row.id}/events"}}


def result_doc(row: ClusterResultRow, cluster: ClusterRow) -> dict[str, Any]:
    """One check on one resource, shaped like a Defender sub-assessment."""
    return {
        "id": str(row.id), "name": row.check_id, "displayName": row.title,
        "status": {"code": row.status, "severity": display_severity(row.severity),
                   "description": row.message or ("The resource passes this check" if row.status == repo.HEALTHY
                                                  else "")},
        "resourceDetails": {"source": "Kubernetes", "id": f"{cluster.name}/{row.resource}", "cluster": cluster.name,
                            "clusterId": cluster.id, "resource": row.resource, "kind": row.kind,
                            "namespace": row.namespace, "name": row.name},
        "additionalData": {"assessedResourceType": "KubernetesWorkload" if row.kind else "Kubernetes",
                           "checkId": row.check_id, "standards": list(row.standards or []),
                           "severity": row.severity, "firstSeen": iso(row.first_seen),
                           "statusChangedAt": iso(row.changed_at)},
    }


def workload_doc(row: ClusterWorkloadRow, db: Session) -> dict[str, Any]:
    """A workload with its containers, each linked to the stored image assessments it runs."""
    containers = []
    for c in row.containers or []:
        linked = repo.linked_images(db, c.get("image", ""), c.get("image_id", ""))
        containers.append(dict(c) | {"assessments": [
            {"id": str(i.id), "health": i.health, "digest": i.digest, "repository": i.repository,
             "registry": i.registry_host, "link": f"/api/v1/assessments/{i.id}"} for i in linked]})
    ref = f"{row.kind}/{row.namespace}/{row.name}" if row.namespace else f"{row.kind}/{row.name}"
    return {"id": row.id, "kind": row.kind, "namespace": row.namespace, "name": row.name, "uid": row.uid or None,
            "resource": ref, "health": row.health, "containers": containers, "updated_at": iso(row.updated_at),
            "links": {"assessments": f"/api/v1/clusters/{row.cluster_id}/assessments?resource={ref}"}}


def event_doc(row: ClusterEventRow) -> dict[str, Any]:
    """A posture event."""
    return {"id": row.id, "kind": row.kind, "message": row.message, "data": dict(row.data or {}),
            "created_at": iso(row.created_at)}


def _cluster(db: Session, cluster_id: int) -> ClusterRow:
    row = repo.get_cluster(db, cluster_id)
    if row is None:
        raise HTTPException(404, "no such cluster")
    return row


@router.post("", status_code=201)
def register(body: ClusterIn, ctx: Ctx, db: Db, _: Admin) -> dict[str, Any]:
    """Register a cluster; its first assessment starts at once."""
    row = repo.add_cluster(db, ctx.cipher, body.name, kubeconfig=body.kubeconfig or "", context=body.context or "",
                           server=body.server or "", token=body.token or "", ca_cert=body.ca_cert or "",
                           interval=body.interval)
    db.commit()
    jobs.wake()
    return cluster_doc(row)


@router.get("")
def list_all(db: Db, _: Reader) -> dict[str, Any]:
    """Every cluster."""
    return {"items": [cluster_doc(r) for r in repo.list_clusters(db)], "next": None}


@router.get("/{cluster_id}")
def get_one(cluster_id: int, db: Db, _: Reader) -> dict[str, Any]:
    """One cluster."""
    return cluster_doc(_cluster(db, cluster_id))


@router.delete("/{cluster_id}", status_code=204, response_class=Response)
def remove(cluster_id: int, db: Db, _: Admin) -> Response:
    """Remove a cluster with its results and events."""
    if not repo.delete_cluster(db, cluster_id):
        raise HTTPException(404, "no such cluster")
    return Response(status_code=204)


@router.post("/{cluster_id}/assess", status_code=202)
def assess(cluster_id: int, db: Db, _: Admin) -> dict[str, Any]:
    """Assess the cluster now (in the background; watch ``last_assessed`` or the events)."""
    if not repo.request_assessment(db, cluster_id):
        raise HTTPException(404, "no such cluster")
    db.commit()
    jobs.wake()
    return {"status": "queued"}


@router.get("/{cluster_id}/assessments")
def assessments(cluster_id: int, db: Db, _: Reader, status: str = "", check: str = "", resource: str = "",
                cursor: str = "", limit: int = 100) -> dict[str, Any]:
    """The latest result of every check on every resource (``status=Unhealthy``: the failures)."""
    cluster = _cluster(db, cluster_id)
    found = repo.list_results(db, cluster_id, status=status, check_id=check, resource=resource, cursor=cursor,
                              limit=limit)
    return {"items": [result_doc(r, cluster) for r in found.items], "next": found.next or None}


@router.get("/{cluster_id}/workloads")
def workloads(cluster_id: int, db: Db, _: Reader, health: str = "", cursor: str = "",
              limit: int = 100) -> dict[str, Any]:
    """The cluster's workloads, their health and their images' vulnerability assessments."""
    _cluster(db, cluster_id)
    found = repo.list_workloads(db, cluster_id, health=health, cursor=cursor, limit=limit)
    return {"items": [workload_doc(r, db) for r in found.items], "next": found.next or None}


@router.get("/{cluster_id}/events")
def events(cluster_id: int, db: Db, _: Reader, kind: str = "", cursor: str = "", limit: int = 100) -> dict[str, Any]:
    """What changed over time: assessments, new failures, fixes, failed collections."""
    _cluster(db, cluster_id)
    found = repo.list_cluster_events(db, cluster_id, kind=kind, cursor=cursor, limit=limit)
    return {"items": [event_doc(r) for r in found.items], "next": found.next or None}
