"""Scans: list, detail, and a manual scan of any REF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from containerguard.errors import ConfigError
from containerguard.jobs.dispatch import SCAN, Job
from containerguard.sources.imageref import parse_ref
from containerguard.sources.ref import REGISTRY, split_ref
from containerguard.store import registries as repo
from containerguard.store.scans import get_scan, list_scans, new_scan

from ..deps import Admin, Db, Jobs, Reader
from ..shapes import scan_doc

router = APIRouter(prefix="/api/v1/scans", tags=["scans"])


class ScanIn(BaseModel):
    """A scan to run now."""

    ref: str = Field(min_length=1, max_length=1000, description="any REF: registry ref, oci:, docker-archive:, dir:")


@router.post("", status_code=202)
def create(body: ScanIn, db: Db, jobs: Jobs, _: Admin) -> dict[str, Any]:
    """Queue a scan of ``ref`` (a registry image uses the registered registry's credentials)."""
    ref = body.ref.strip()
    prefix, _rest = split_ref(ref)
    host = repository = digest = ""
    tags: tuple[str, ...] = ()
    registry_id = None
    if prefix == REGISTRY:
        parsed = parse_ref(ref)  # ConfigError → 400
        host, repository, digest = parsed.host, parsed.repository, parsed.digest
        tags = (parsed.tag,) if parsed.tag and not parsed.digest else ()
        row = repo.find_by_host(db, host)
        registry_id = row.id if row is not None else None
    elif not _rest:
        raise ConfigError(f"image reference {ref!r} names no image")
    scan = new_scan(db, ref, registry_host=host, repository=repository, digest=digest, tags=tags,
                    trigger="manual", registry_id=registry_id)
    db.commit()
    jobs.submit(Job(SCAN))
    return scan_doc(scan)


@router.get("")
def scans(db: Db, _: Reader, status: str = "", digest: str = "", cursor: str = "",
          limit: int = 100) -> dict[str, Any]:
    """Scans, newest first (``status``: queued, running, done, failed)."""
    found = list_scans(db, status=status, cursor=cursor, limit=limit, digest=digest)
    return {"items": [scan_doc(s) for s in found.items], "next": found.next or None}


@router.get("/{scan_id}")
def scan(scan_id: str, db: Db, _: Reader) -> dict[str, Any]:
    """One scan: status, attempts, error, duration, the images it wrote."""
    row = get_scan(db, scan_id)
    if row is None:
        raise HTTPException(404, "no such scan")
    return scan_doc(row)
