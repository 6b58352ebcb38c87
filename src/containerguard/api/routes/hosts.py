"""Docker hosts: register (a host-scoped agent token is made), receive agent snapshots (audited here
against the CIS Docker Benchmark), and read the inventory, the sub-assessments and what changed
between two assessments."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from containerguard.models.snapshot import SnapshotFormatError, snapshot_from_dict
from containerguard.pipeline.audit import RECOMMENDATION, audit
from containerguard.store import hosts as repo
from containerguard.store.tables import HostRow, HostSnapshotRow

from ..deps import Admin, Caller, Db, Reader, require
from ..shapes import iso

router = APIRouter(prefix="/api/v1/hosts", tags=["hosts"])

Agent = Annotated[Caller, Depends(require("agent"))]


class HostIn(BaseModel):
    """A host to register."""

    name: str = Field(min_length=1, max_length=200)


def host_doc(row: HostRow) -> dict[str, Any]:
    """A host with the summary of its latest inventory and the health of its recommendation."""
    inv = row.inventory or {}
    return {"id": row.id, "name": row.name, "hostname": row.hostname or None,
            "os": inv.get("os"), "kernel": inv.get("kernel"), "docker_version": inv.get("docker_version"),
            "api_version": inv.get("api_version"), "storage_driver": inv.get("storage_driver"),
            "images": inv.get("images"),
            "containers": {"running": inv.get("containers_running"), "stopped": inv.get("containers_stopped")},
            "recommendation": RECOMMENDATION, "health": row.health,
            "last_assessment": row.last_snapshot_id, "last_seen": iso(row.last_seen),
            "created_at": iso(row.created_at),
            "links": {"assessments": f"/api/v1/hosts/{row.id}/assessments",
                      "snapshots": f"/api/v1/hosts/{row.id}/snapshots",
                      "changes": f"/api/v1/hosts/{row.id}/changes"}}


def snapshot_doc(row: HostSnapshotRow) -> dict[str, Any]:
    """One assessment of the history (without its results)."""
    return {"id": row.id, "collected_at": row.collected_at or None, "received_at": iso(row.received_at),
            "benchmark": row.benchmark, "health": row.health, "failed_scored_controls": row.failing}


def container_docs(db: Session, inventory: dict[str, Any]) -> list[dict[str, Any]]:
    """Each container with its image and the vulnerability health of that image when it is stored."""
    out = []
    for c in inventory.get("containers", []):
        linked = repo.linked_images(db, c)
        health = None
        if linked:
            # The worst of the matches: a tag can be on several stored platforms.
            order = ("Unhealthy", "Pending", "Healthy")
            health = min((i.health for i in linked), key=lambda h: order.index(h) if h in order else 1)
        out.append({"name": c.get("name"), "image": c.get("image"), "image_id": c.get("image_id"),
                    "state": c.get("state"), "repo_digests": c.get("repo_digests", []),
                    "image_health": health,
                    "image_assessments": [{"id": str(i.id), "health": i.health, "registry": i.registry_host,
                                           "repository": i.repository, "digest": i.digest,
                                           "link": f"/api/v1/assessments/{i.id}"} for i in linked]})
    return out


def subassessment_doc(result: dict[str, Any], host: HostRow, snapshot: HostSnapshotRow) -> dict[str, Any]:
    """One failed control on one resource, shaped like a Defender sub-assessment."""
    resource = result.get("resource")
    return {
        "id": f"{snapshot.id}:{result.get('id')}:{resource or ''}", "name": result.get("id"),
        "displayName": result.get("title"),
        "status": {"code": "Unhealthy", "severity": "High" if result.get("level") == 1 else "Medium",
                   "description": result.get("evidence")},
        "remediation": result.get("remediation"),
        "resourceDetails": {"source": "DockerHost", "id": f"{host.name}/{resource}" if resource else host.name,
                            "host": host.name, "hostId": host.id, "resource": resource},
        "additionalData": {"assessedResourceType": "DockerContainer" if resource else "DockerHost",
                           "controlId": result.get("id"), "section": result.get("section"),
                           "level": result.get("level"), "automated": result.get("automated"),
                           "benchmark": snapshot.benchmark, "assessment": snapshot.id},
    }


def _host(db: Session, host_id: int) -> HostRow:
    row = repo.get_host(db, host_id)
    if row is None:
        raise HTTPException(404, "no such host")
    return row


def _assessment(db: Session, host_id: int, snapshot_id: int | None) -> HostSnapshotRow:
    row = repo.get_snapshot(db, host_id, snapshot_id)
    if row is None:
        raise HTTPException(404, "no such assessment" if snapshot_id is not None else "the host has not reported yet")
    return row


@router.post("", status_code=201)
def register(body: HostIn, db: Db, _: Admin) -> dict[str, Any]:
    """Register a host; the answer carries its agent token, shown this once."""
    token, row = repo.register_host(db, body.name)
    db.commit()
    return {"id": row.id, "name": row.name, "token": token}


@router.get("")
def list_all(db: Db, _: Reader) -> dict[str, Any]:
    """Every host with its inventory summary and health."""
    return {"items": [host_doc(r) for r in repo.list_hosts(db)], "next": None}


@router.get("/me")
def whoami(db: Db, caller: Agent) -> dict[str, Any]:
    """The host an agent token is bound to (how an agent learns its id)."""
    row = repo.host_of_token(db, caller.token_id)
    if row is None:
        raise HTTPException(404, "this token is not bound to a host")
    return {"id": row.id, "name": row.name}


@router.get("/{host_id}")
def get_one(host_id: int, db: Db, _: Reader) -> dict[str, Any]:
    """One host: its latest inventory, each container with its image's vulnerability health."""
    row = _host(db, host_id)
    inv = dict(row.inventory or {})
    return host_doc(row) | {"containers": {"running": inv.get("containers_running"),
                                           "stopped": inv.get("containers_stopped"),
                                           "items": container_docs(db, inv)}}


@router.delete("/{host_id}", status_code=204, response_class=Response)
def remove(host_id: int, db: Db, _: Admin) -> Response:
    """Remove a host, its history and its agent token."""
    if not repo.delete_host(db, host_id):
        raise HTTPException(404, "no such host")
    return Response(status_code=204)


@router.post("/{host_id}/snapshots", status_code=201)
def ingest(host_id: int, body: Annotated[dict[str, Any], Body()], db: Db, caller: Agent,
           all_containers: bool = False) -> dict[str, Any]:
    """Receive a HostSnapshot from the host's agent, audit it and keep it in the history."""
    if caller.role == "agent":
        bound = repo.host_of_token(db, caller.token_id)
        if bound is None or bound.id != host_id:
            raise HTTPException(403, "this agent token belongs to another host")
    host = _host(db, host_id)
    try:
        snapshot = snapshot_from_dict(body)
    except SnapshotFormatError as exc:
        raise HTTPException(400, f"not a host snapshot: {exc}") from exc
    result = audit(snapshot, all_containers=all_containers)
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    row = repo.record_assessment(db, host, snapshot, raw, result)
    db.commit()
    return snapshot_doc(row) | {"host": host.id}


@router.get("/{host_id}/snapshots")
def history(host_id: int, db: Db, _: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The host's assessments, newest first."""
    _host(db, host_id)
    return {"items": [snapshot_doc(r) for r in repo.snapshots(db, host_id, limit)], "next": None}


@router.get("/{host_id}/assessments")
def assessments(host_id: int, db: Db, _: Reader, snapshot: int | None = None) -> dict[str, Any]:
    """The host recommendation of the latest assessment (or ``snapshot``) with one sub-assessment
    per failed control and resource."""
    host = _host(db, host_id)
    row = _assessment(db, host_id, snapshot)
    subs = [subassessment_doc(r, host, row) for r in repo.failed(row.results or [])]
    return {"recommendation": RECOMMENDATION, "status": {"code": row.health}, "assessment": snapshot_doc(row),
            "items": subs, "next": None}


@router.get("/{host_id}/changes")
def diff(host_id: int, db: Db, _: Reader, from_: Annotated[int | None, Query(alias="from")] = None,
         to: int | None = None) -> dict[str, Any]:
    """What changed between two assessments (default: the latest and the one before it)."""
    _host(db, host_id)
    new = _assessment(db, host_id, to)
    if from_ is None:
        old = repo.previous_snapshot(db, host_id, new.id)
        if old is None:
            raise HTTPException(404, "the host has a single assessment: nothing to compare")
    else:
        old = _assessment(db, host_id, from_)
    return {"from": snapshot_doc(old), "to": snapshot_doc(new)} | repo.changes(old, new)
