"""Assessments (the per-image recommendation) and their sub-assessments (one per vulnerability)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from containerguard.store.findings import get_finding, list_findings
from containerguard.store.images import ImageFilter, list_images
from containerguard.store.tables import ImageRow

from ..deps import Db, Reader
from ..shapes import assessment, subassessment

router = APIRouter(prefix="/api/v1", tags=["assessments"])


@router.get("/assessments")
def assessments(db: Db, _: Reader, status: str = "", registry: str = "", repository: str = "",
                cursor: str = "", limit: int = 100) -> dict[str, Any]:
    """"Vulnerabilities in container registry images should be remediated", one per image;
    ``status=Unhealthy`` lists the images that raise the recommendation."""
    found = list_images(db, ImageFilter(registry=registry, repository=repository, health=status), cursor, limit)
    return {"items": [assessment(row) for row in found.items], "next": found.next or None}


@router.get("/assessments/{assessment_id}")
def one_assessment(assessment_id: int, db: Db, _: Reader) -> dict[str, Any]:
    """One image's assessment."""
    row = db.get(ImageRow, assessment_id)
    if row is None:
        raise HTTPException(404, "no such assessment")
    return assessment(row)


@router.get("/assessments/{assessment_id}/subassessments")
def subassessments(assessment_id: int, db: Db, _: Reader, severity: str = "", state: str = "open",
                   cursor: str = "", limit: int = 100) -> dict[str, Any]:
    """The vulnerabilities under one image's assessment."""
    row = db.get(ImageRow, assessment_id)
    if row is None:
        raise HTTPException(404, "no such assessment")
    found = list_findings(db, row.id, state=state, severity=severity, cursor=cursor, limit=limit)
    return {"items": [subassessment(f, row) for f in found.items], "next": found.next or None}


@router.get("/subassessments/{subassessment_id}")
def one_subassessment(subassessment_id: int, db: Db, _: Reader) -> dict[str, Any]:
    """One sub-assessment by id."""
    finding = get_finding(db, subassessment_id)
    image = db.get(ImageRow, finding.image_id) if finding is not None else None
    if finding is None or image is None:
        raise HTTPException(404, "no such sub-assessment")
    return subassessment(finding, image)
