"""Registered Docker hosts: registration with a host-scoped agent token, the snapshot history with
the audit the server ran on each, the latest inventory, links from containers to stored image
assessments, and the diff between two assessments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError
from containerguard.models.check import HostAudit
from containerguard.models.snapshot import HostSnapshot
from containerguard.report.host_base import result_dict
from containerguard.sources.imageref import parse_ref

from .tables import HostRow, HostSnapshotRow, ImageRow, TokenRow, utcnow
from .tokens import create_token

PENDING = "Pending"
FAIL = "FAIL"


def register_host(session: Session, name: str) -> tuple[str, HostRow]:
    """A new host named ``name`` and its agent token (plain, shown once); :class:`ConfigError` if the
    name is taken."""
    taken = ConfigError(f"a host named {name!r} exists already")
    if session.scalars(select(HostRow.id).where(HostRow.name == name)).first() is not None:
        raise taken
    token, token_row = create_token(session, "agent", name=f"host:{name}")
    row = HostRow(name=name, hostname="", token_id=token_row.id, health=PENDING, inventory={})
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:  # a concurrent registration won the name
        raise taken from exc
    return token, row


def get_host(session: Session, host_id: int) -> HostRow | None:
    """The host ``host_id``, or None."""
    return session.get(HostRow, host_id)


def host_of_token(session: Session, token_id: int) -> HostRow | None:
    """The host an agent token is bound to, or None (an unbound token)."""
    return session.scalars(select(HostRow).where(HostRow.token_id == token_id)).first()


def list_hosts(session: Session) -> Sequence[HostRow]:
    """Every host, by name."""
    return session.scalars(select(HostRow).order_by(HostRow.name)).all()


def delete_host(session: Session, host_id: int) -> bool:
    """Remove a host, its history and its token; False if there is none."""
    row = session.get(HostRow, host_id)
    if row is None:
        return False
    token_id = row.token_id
    session.execute(delete(HostSnapshotRow).where(HostSnapshotRow.host_id == host_id))
    session.delete(row)
    if token_id is not None:
        session.execute(delete(TokenRow).where(TokenRow.id == token_id))
    return True


def _image_refs(snapshot: HostSnapshot) -> dict[str, dict[str, list[str]]]:
    """Per image id, its ``RepoDigests`` and ``RepoTags`` (what links a container to a stored image)."""
    out: dict[str, dict[str, list[str]]] = {}
    for image in snapshot.images:
        inspect = image.inspect
        out[str(inspect.get("Id") or "")] = {
            "repo_digests": [str(d) for d in inspect.get("RepoDigests") or [] if isinstance(d, str)],
            "repo_tags": [str(t) for t in inspect.get("RepoTags") or [] if isinstance(t, str) and t != "<none>:<none>"],
        }
    return out


def inventory_doc(snapshot: HostSnapshot, audit: HostAudit) -> dict[str, Any]:
    """The inventory kept per assessment: engine facts, counts, and every container with its image's
    repository digests and tags."""
    inv = audit.inventory
    refs = _image_refs(snapshot)
    containers = []
    for c in inv.containers:
        known = refs.get(c.image_id, {"repo_digests": [], "repo_tags": []})
        containers.append({"name": c.name, "image": c.image, "image_id": c.image_id, "state": c.state, **known})
    return {"hostname": inv.hostname, "os": inv.os, "kernel": inv.kernel, "docker_version": inv.docker_version,
            "api_version": inv.api_version, "storage_driver": inv.storage_driver, "images": inv.images,
            "containers_running": inv.containers_running, "containers_stopped": inv.containers_stopped,
            "containers": containers}


def record_assessment(session: Session, host: HostRow, snapshot: HostSnapshot, raw: str,
                      audit: HostAudit) -> HostSnapshotRow:
    """Store a received snapshot with its audit, and make it the host's latest."""
    inventory = inventory_doc(snapshot, audit)
    row = HostSnapshotRow(host_id=host.id, collected_at=snapshot.collected_at[:40], received_at=utcnow(),
                          snapshot=raw, benchmark=audit.benchmark, health=audit.recommendation.status,
                          failing=len(audit.recommendation.sub_assessments), inventory=inventory,
                          results=[result_dict(r) for r in audit.results])
    session.add(row)
    session.flush()
    host.hostname = inventory["hostname"][:300]
    host.health = row.health
    host.inventory = inventory
    host.last_snapshot_id = row.id
    host.last_seen = row.received_at
    return row


def snapshots(session: Session, host_id: int, limit: int = 100) -> Sequence[HostSnapshotRow]:
    """The host's assessments, newest first."""
    return session.scalars(select(HostSnapshotRow).where(HostSnapshotRow.host_id == host_id)
                           .order_by(HostSnapshotRow.id.desc()).limit(limit)).all()


def get_snapshot(session: Session, host_id: int, snapshot_id: int | None = None) -> HostSnapshotRow | None:
    """Assessment ``snapshot_id`` of the host (None: its latest), or None."""
    query = select(HostSnapshotRow).where(HostSnapshotRow.host_id == host_id)
    if snapshot_id is not None:
        query = query.where(HostSnapshotRow.id == snapshot_id)
    return session.scalars(query.order_by(HostSnapshotRow.id.desc()).limit(1)).first()


def previous_snapshot(session: Session, host_id: int, before: int) -> HostSnapshotRow | None:
    """The host's assessment just before ``before``, or None."""
    return session.scalars(select(HostSnapshotRow).where(HostSnapshotRow.host_id == host_id,
                                                         HostSnapshotRow.id < before)
                           .order_by(HostSnapshotRow.id.desc()).limit(1)).first()


def failed(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sub-assessments of an assessment: every failed control, Automated or Manual, per resource
    (the rule of :func:`containerguard.pipeline.audit.counts_against_health`, on stored results)."""
    return [r for r in results if r.get("status") == FAIL]


def _key(result: dict[str, Any]) -> tuple[str, str]:
    return str(result.get("id")), str(result.get("resource") or "")


def changes(old: HostSnapshotRow, new: HostSnapshotRow) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: controls newly failing and fixed (per resource),
    containers added, removed and changed state."""
    before = {_key(r): r for r in failed(old.results or [])}
    after = {_key(r): r for r in failed(new.results or [])}

    def brief(r: dict[str, Any]) -> dict[str, Any]:
        return {"id": r.get("id"), "title": r.get("title"), "resource": r.get("resource"),
                "evidence": r.get("evidence")}

    old_c = {c["name"]: c for c in (old.inventory or {}).get("containers", [])}
    new_c = {c["name"]: c for c in (new.inventory or {}).get("containers", [])}

    def container(c: dict[str, Any]) -> dict[str, Any]:
        return {"name": c.get("name"), "image": c.get("image"), "state": c.get("state")}

    return {
        "newly_failing": [brief(after[k]) for k in sorted(after.keys() - before.keys())],
        "fixed": [brief(before[k]) for k in sorted(before.keys() - after.keys())],
        "containers_added": [container(new_c[n]) for n in sorted(new_c.keys() - old_c.keys())],
        "containers_removed": [container(old_c[n]) for n in sorted(old_c.keys() - new_c.keys())],
        "containers_changed": [
            {"name": n, "image": new_c[n].get("image"), "from": {"state": old_c[n].get("state"),
                                                                  "image": old_c[n].get("image")},
             "to": {"state": new_c[n].get("state"), "image": new_c[n].get("image")}}
            for n in sorted(new_c.keys() & old_c.keys())
            if (old_c[n].get("state"), old_c[n].get("image_id")) != (new_c[n].get("state"), new_c[n].get("image_id"))],
        "health": {"from": old.health, "to": new.health},
    }


def _candidates(session: Session, host: str, repository: str) -> list[ImageRow]:
    return list(session.scalars(select(ImageRow).where(ImageRow.registry_host == host,
                                                       ImageRow.repository == repository).order_by(ImageRow.id)))


def linked_images(session: Session, container: dict[str, Any]) -> list[ImageRow]:
    """Stored images a container runs: by a repository digest of its image (``RepoDigests``), else by
    ``repository:tag`` (the image's tags, then the reference the container was created from)."""
    found: dict[int, ImageRow] = {}
    for ref_text in container.get("repo_digests") or []:
        try:
            ref = parse_ref(str(ref_text))
        except ConfigError:
            continue
        for row in _candidates(session, ref.host, ref.repository):
            if ref.digest and ref.digest in (row.digest, row.index_digest):
                found[row.id] = row
    if found:
        return list(found.values())
    tagged = [*(container.get("repo_tags") or []), str(container.get("image") or "")]
    for ref_text in tagged:
        try:
            ref = parse_ref(str(ref_text))
        except ConfigError:
            continue
        if ref.digest:
            rows = [r for r in _candidates(session, ref.host, ref.repository)
                    if ref.digest in (r.digest, r.index_digest)]
        else:
            tag = ref.tag or "latest"
            rows = [r for r in _candidates(session, ref.host, ref.repository) if tag in (r.tags or [])]
        for row in rows:
            found[row.id] = row
        if found:
            break
    return list(found.values())
