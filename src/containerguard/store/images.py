"""Images: one row per (registry, repository, platform manifest digest), with tags, health and counts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError
from containerguard.models.advisory import SEVERITY_LEVELS

from .paging import Page, clamp, decode_int_cursor, page
from .tables import ImageRow

PENDING = "Pending"
HEALTH_STATES = ("Healthy", "Unhealthy", "NotApplicable", PENDING)
_COUNT_COLUMNS = {level: level.lower() for level in SEVERITY_LEVELS}


@dataclass(frozen=True)
class ImageFilter:
    """What ``GET /images`` filters on; empty fields match everything."""

    registry: str = ""
    repository: str = ""
    health: str = ""
    severity: str = ""
    """Comma list of levels: images with at least one open finding of any of them."""
    digest: str = ""


def get_image(session: Session, host: str, repository: str, digest: str) -> ImageRow | None:
    """The image row for exactly this manifest digest."""
    return session.scalars(select(ImageRow).where(
        ImageRow.registry_host == host, ImageRow.repository == repository, ImageRow.digest == digest)).first()


def images_of(session: Session, host: str, repository: str, digest: str) -> list[ImageRow]:
    """Rows pushed as ``digest``: the manifest itself, or every platform of the index ``digest``."""
    return list(session.scalars(select(ImageRow).where(
        ImageRow.registry_host == host, ImageRow.repository == repository,
        or_(ImageRow.digest == digest, ImageRow.index_digest == digest)).order_by(ImageRow.id)))


def find_by_digest(session: Session, digest: str, repository: str = "", registry: str = "") -> list[ImageRow]:
    """Every image whose manifest (or index) digest is ``digest``, optionally in one repository."""
    query = select(ImageRow).where(or_(ImageRow.digest == digest, ImageRow.index_digest == digest))
    if repository:
        query = query.where(ImageRow.repository == repository)
    if registry:
        query = query.where(ImageRow.registry_host == registry)
    return list(session.scalars(query.order_by(ImageRow.id)))


def ensure_image(session: Session, host: str, repository: str, digest: str, index_digest: str = "",
                 registry_id: int | None = None) -> ImageRow:
    """The image row, created ``Pending`` when new."""
    row = get_image(session, host, repository, digest)
    if row is not None:
        return row
    row = ImageRow(registry_host=host, repository=repository, digest=digest, index_digest=index_digest,
                   registry_id=registry_id, tags=[], health=PENDING, notes=[], sbom="")
    try:
        # Two scans may finish the same manifest at once (pushed alone and inside its index): the
        # loser of the insert race uses the winner's row.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = get_image(session, host, repository, digest)
        if existing is None:
            raise
        return existing
    return row


def add_tags(row: ImageRow, tags: Iterable[str]) -> bool:
    """Add tags (sorted, no duplicates); True when something was added. A tag moved to another
    digest is not removed here: registries send no "untag" event for an overwritten tag."""
    merged = sorted(set(row.tags or []) | {t for t in tags if t})
    if merged == sorted(row.tags or []):
        return False
    row.tags = merged  # a new list: JSON columns only notice reassignment
    return True


def set_counts(row: ImageRow, counts: dict[str, int]) -> None:
    """Store per-level counts (levels not given become 0)."""
    for level, column in _COUNT_COLUMNS.items():
        setattr(row, column, int(counts.get(level, 0)))


def severity_counts(row: ImageRow) -> dict[str, int]:
    """Open findings per level, most severe first."""
    return {level: int(getattr(row, column)) for level, column in _COUNT_COLUMNS.items()}


def list_images(session: Session, flt: ImageFilter, cursor: str = "", limit: int = 100) -> Page[ImageRow]:
    """A page of images, newest id last, filtered."""
    limit = clamp(limit)
    query = select(ImageRow)
    if flt.registry:
        query = query.where(ImageRow.registry_host == flt.registry)
    if flt.repository:
        query = query.where(ImageRow.repository == flt.repository)
    if flt.digest:
        query = query.where(or_(ImageRow.digest == flt.digest, ImageRow.index_digest == flt.digest))
    if flt.health:
        if flt.health not in HEALTH_STATES:
            raise ConfigError(f"unknown health {flt.health!r} (known: {', '.join(HEALTH_STATES)})")
        query = query.where(ImageRow.health == flt.health)
    if flt.severity:
        levels = [s.strip().upper() for s in flt.severity.split(",") if s.strip()]
        unknown = [s for s in levels if s not in _COUNT_COLUMNS]
        if unknown:
            raise ConfigError(f"unknown severity {', '.join(unknown)} (known: {', '.join(SEVERITY_LEVELS)})")
        query = query.where(or_(*(getattr(ImageRow, _COUNT_COLUMNS[s]) > 0 for s in levels)))
    if cursor:
        query = query.where(ImageRow.id > decode_int_cursor(cursor))
    rows = list(session.scalars(query.order_by(ImageRow.id).limit(limit + 1)))
    return page(rows, limit, rows[limit - 1].id if len(rows) > limit else None)


def all_assessed(session: Session, batch: int = 200) -> Iterator[int]:
    """Ids of every image with a stored SBOM (what a re-assessment walks), in batches."""
    last = 0
    while True:
        ids = list(session.scalars(select(ImageRow.id).where(ImageRow.id > last, ImageRow.sbom != "")
                                   .order_by(ImageRow.id).limit(batch)))
        if not ids:
            return
        yield from ids
        last = ids[-1]
