"""Images: list (filters, cursor), detail, SBOM download, vulnerabilities, events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError
from containerguard.jobs.tasks import load_sbom
from containerguard.sbom.formats.base import get_format
from containerguard.store.events import list_events
from containerguard.store.findings import list_findings
from containerguard.store.images import ImageFilter, find_by_digest, list_images
from containerguard.store.tables import ImageRow

from ..deps import Db, Reader
from ..shapes import event_doc, image_detail, image_summary, subassessment

router = APIRouter(prefix="/api/v1/images", tags=["images"])
SBOM_MEDIA = {"cyclonedx": "application/vnd.cyclonedx+json", "spdx": "application/spdx+json",
              "json": "application/json"}


def one_image(db: Session, digest: str, repository: str, registry: str) -> ImageRow:
    """The image ``digest`` names (404 when none; 409 when several repositories hold it)."""
    found = find_by_digest(db, digest, repository, registry)
    if not found:
        raise HTTPException(404, f"no image with digest {digest}")
    exact = [row for row in found if row.digest == digest]
    candidates = exact or found
    if len({(r.registry_host, r.repository) for r in candidates}) > 1:
        names = sorted({f"{r.registry_host}/{r.repository}" for r in candidates})
        raise HTTPException(409, f"digest {digest} is in several repositories ({', '.join(names)}): "
                                 "add ?repository= (and ?registry=)")
    if len(candidates) > 1:
        platforms = sorted(r.platform for r in candidates)
        raise HTTPException(409, f"{digest} is an image index ({', '.join(platforms)}): use a platform's digest")
    return candidates[0]


@router.get("")
def images(db: Db, _: Reader, registry: str = "", repository: str = "", health: str = "", severity: str = "",
           digest: str = "", cursor: str = "", limit: int = 100) -> dict[str, Any]:
    """Images, filtered by registry (``host[:port]``), repository, health and severity (comma list:
    images with an open finding of one of those levels); ``next`` is the cursor of the next page."""
    found = list_images(db, ImageFilter(registry, repository, health, severity, digest), cursor, limit)
    return {"items": [image_summary(row) for row in found.items], "next": found.next or None}


@router.get("/{digest}")
def image(digest: str, db: Db, _: Reader, repository: str = "", registry: str = "") -> dict[str, Any]:
    """One image."""
    return image_detail(one_image(db, digest, repository, registry))


@router.get("/{digest}/sbom", response_class=Response)
def sbom(digest: str, db: Db, _: Reader, format: str = "cyclonedx", repository: str = "",
         registry: str = "") -> Response:
    """The stored SBOM as CycloneDX 1.6, SPDX 2.3 or containerguard JSON."""
    if format not in SBOM_MEDIA:
        raise ConfigError(f"unknown SBOM format {format!r} (cyclonedx, spdx, json)")
    row = one_image(db, digest, repository, registry)
    if not row.sbom:
        raise HTTPException(404, "the image has no SBOM yet (scan pending)")
    text = get_format(format).write(load_sbom(row))
    return Response(text, media_type=SBOM_MEDIA[format])


@router.get("/{digest}/vulnerabilities")
def vulnerabilities(digest: str, db: Db, _: Reader, repository: str = "", registry: str = "",
                    severity: str = "", state: str = "open", cursor: str = "",
                    limit: int = 100) -> dict[str, Any]:
    """The image's vulnerabilities as sub-assessments (``state``: open, closed, or "" for both)."""
    row = one_image(db, digest, repository, registry)
    found = list_findings(db, row.id, state=state, severity=severity, cursor=cursor, limit=limit)
    return {"items": [subassessment(f, row) for f in found.items], "next": found.next or None}


@router.get("/{digest}/events")
def image_events(digest: str, db: Db, _: Reader, repository: str = "", registry: str = "", cursor: str = "",
                 limit: int = 100) -> dict[str, Any]:
    """What happened to the image: health changes and re-assessment diffs."""
    row = one_image(db, digest, repository, registry)
    found = list_events(db, image_id=row.id, cursor=cursor, limit=limit)
    return {"items": [event_doc(e) for e in found.items], "next": found.next or None}
