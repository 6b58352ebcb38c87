"""Images for the Images tab: the list (filtered, sorted and paged in SQL, never reading SBOMs), one
image's facts, layers and packages (from its stored native SBOM), its vulnerabilities (filtered,
sorted and paged in SQL) and one vulnerability with its evidence."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from containerguard.api.shapes import remediation_text
from containerguard.errors import ConfigError
from containerguard.models.advisory import SEVERITY_LEVELS
from containerguard.store.images import HEALTH_STATES
from containerguard.store.tables import FindingRow, ImageRow

from . import keyset
from .keyset import AnySelect, Key

LEVELS = tuple(level.lower() for level in SEVERITY_LEVELS)
"""``critical`` … ``unknown``: the image rows' count columns, most severe first."""
IMAGE_SORTS = ("last_scan", "repository", "critical")
VULN_SORTS = ("severity", "cvss", "package", "id")
VULN_STATES = ("open", "closed")
MAX_TEXT = 200
"""Longest text filter taken (longer is cut)."""

_FACTS = (ImageRow.id, ImageRow.registry_host, ImageRow.repository, ImageRow.digest, ImageRow.index_digest,
          ImageRow.tags, ImageRow.platform, ImageRow.distro, ImageRow.health,
          *(getattr(ImageRow, level) for level in LEVELS), ImageRow.packages, ImageRow.notes, ImageRow.last_scan,
          ImageRow.last_scan_id, ImageRow.assessed_at, ImageRow.created_at, (ImageRow.sbom != "").label("has_sbom"))


@dataclass(frozen=True)
class ImageFilter:
    """What the image list filters and sorts on; empty fields match everything."""

    registry: str = ""
    repository: str = ""
    """A part of the repository name (case-insensitive)."""
    health: str = ""
    severity: str = ""
    """A level: images with at least one open finding of it."""
    sort: str = "last_scan"

    def check(self) -> None:
        """ConfigError naming the first value that is not one of the known ones."""
        if self.health and self.health not in HEALTH_STATES:
            raise ConfigError(f"unknown health {self.health!r} (known: {', '.join(HEALTH_STATES)})")
        if self.severity and self.severity not in LEVELS:
            raise ConfigError(f"unknown severity {self.severity!r} (known: {', '.join(LEVELS)})")
        if self.sort not in IMAGE_SORTS:
            raise ConfigError(f"unknown sort {self.sort!r} (known: {', '.join(IMAGE_SORTS)})")

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links that keep it)."""
        return {"registry": self.registry, "repository": self.repository, "health": self.health,
                "severity": self.severity, "sort": self.sort}


@dataclass(frozen=True)
class ImageLine:
    """One row of the image list."""

    id: int
    registry: str
    repository: str
    digest: str
    tags: tuple[str, ...]
    platform: str
    health: str
    counts: dict[str, int]
    last_scan: datetime | None


@dataclass(frozen=True)
class ImagePage:
    """A page of images, how many match in all, and the cursor of the next page ("" on the last)."""

    items: list[ImageLine]
    total: int
    next: str = ""


@dataclass(frozen=True)
class ImageFacts:
    """What the image page says about an image (everything but the SBOM itself)."""

    id: int
    registry: str
    repository: str
    digest: str
    index_digest: str
    tags: tuple[str, ...]
    platform: str
    distro: str
    health: str
    counts: dict[str, int]
    packages: int
    notes: tuple[dict[str, str], ...]
    last_scan: datetime | None
    last_scan_id: str
    assessed_at: datetime | None
    created_at: datetime | None
    has_sbom: bool

    @property
    def name(self) -> str:
        """``registry/repository``."""
        return f"{self.registry}/{self.repository}"

    @property
    def open_findings(self) -> int:
        """Open findings of every level."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class LayerLine:
    """One layer of the image, with how many inventoried packages were found in it."""

    index: int
    digest: str
    diff_id: str
    size: int
    created_by: str
    packages: int


@dataclass(frozen=True)
class PackageLine:
    """One package of the SBOM."""

    name: str
    version: str
    type: str
    purl: str
    licenses: tuple[str, ...]
    locations: tuple[tuple[str, int | None], ...]
    """(path, 1-based layer number or None when the layer is unknown)."""


@dataclass(frozen=True)
class PackagePage:
    """A page of packages (one image's SBOM, paged in memory: it is one document)."""

    items: list[PackageLine]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Inventory:
    """What the stored SBOM says: layers, packages, and whether it could be read."""

    layers: list[LayerLine]
    packages: list[PackageLine]
    error: str = ""


@dataclass(frozen=True)
class VulnFilter:
    """What the vulnerability table filters and sorts on."""

    severity: str = ""
    package: str = ""
    """A part of the package name (case-insensitive)."""
    fixable: bool = False
    state: str = "open"
    sort: str = "severity"
    descending: bool = False
    """Reverse the sort's natural order (most severe / highest score / A→Z first)."""

    def check(self) -> None:
        """ConfigError naming the first value that is not one of the known ones."""
        if self.severity and self.severity not in LEVELS:
            raise ConfigError(f"unknown severity {self.severity!r} (known: {', '.join(LEVELS)})")
        if self.sort not in VULN_SORTS:
            raise ConfigError(f"unknown sort {self.sort!r} (known: {', '.join(VULN_SORTS)})")
        if self.state not in VULN_STATES:
            raise ConfigError(f"unknown state {self.state!r} (known: {', '.join(VULN_STATES)})")

    def params(self) -> dict[str, str]:
        """The filter as query parameters."""
        return {"severity": self.severity, "package": self.package, "fixable": "1" if self.fixable else "",
                "state": "" if self.state == "open" else self.state, "sort": self.sort,
                "dir": "reverse" if self.descending else ""}


@dataclass(frozen=True)
class VulnLine:
    """One vulnerability (finding) of an image."""

    id: int
    vuln_id: str
    title: str
    package: str
    package_type: str
    installed: str
    fixed: str
    severity: str
    cvss: float | None
    remediation: str


@dataclass(frozen=True)
class VulnPage:
    """A page of an image's vulnerabilities and how many match in all."""

    items: list[VulnLine]
    total: int
    next: str = ""


@dataclass(frozen=True)
class Reference:
    """A reference of an advisory: a link only when it is an http(s) URL."""

    text: str
    link: bool


@dataclass(frozen=True)
class VulnDetail:
    """One vulnerability of one image, with everything the advisory and the match said."""

    row: FindingRow
    image: ImageFacts
    remediation: str
    references: list[Reference]
    locations: list[tuple[str, str]]
    """(path, layer diff_id) where the package was found."""
    purl: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


_LINE: AnySelect = select(ImageRow.id, ImageRow.registry_host, ImageRow.repository, ImageRow.digest,
                            ImageRow.tags, ImageRow.platform, ImageRow.health,
                            *(getattr(ImageRow, level) for level in LEVELS), ImageRow.last_scan)
"""The columns of an image list row (never the SBOM)."""


def _line(r: Any) -> ImageLine:
    return ImageLine(r.id, r.registry_host, r.repository, r.digest, tuple(r.tags or ()), r.platform or "",
                     r.health, _counts(r), r.last_scan)


def _counts(row: Any) -> dict[str, int]:
    return {level: int(getattr(row, level) or 0) for level in LEVELS}


def _facts(row: Any) -> ImageFacts:
    notes = tuple(n for n in (row.notes or []) if isinstance(n, dict))
    return ImageFacts(row.id, row.registry_host, row.repository, row.digest, row.index_digest or "",
                      tuple(row.tags or ()), row.platform or "", row.distro or "", row.health, _counts(row),
                      int(row.packages or 0), notes, row.last_scan, row.last_scan_id or "", row.assessed_at,
                      row.created_at, bool(row.has_sbom))


def image_keys(sort: str) -> list[Key]:
    """The sort keys of the image list (each ends with the id, so the order is total)."""
    ident = Key(ImageRow.id, descending=sort != "repository")
    if sort == "repository":
        return [Key(ImageRow.registry_host, kind=str), Key(ImageRow.repository, kind=str), ident]
    if sort == "critical":
        return [Key(ImageRow.critical, descending=True), Key(ImageRow.high, descending=True), ident]
    return [Key(ImageRow.last_scan, descending=True, nullable=True, kind=datetime), ident]


def _image_filters(flt: ImageFilter, dialect: str) -> list[ColumnElement[bool]]:
    # SQLite stores the SBOM before last_scan, so sorting rows another index found by last_scan reads
    # each row's SBOM overflow pages; on SQLite the equality filters are kept off their indexes
    # (coalesce) so it walks the last_scan index in order instead and stops after one page.
    def plain(column: Any) -> Any:
        return func.coalesce(column, "") if dialect == "sqlite" and flt.sort == "last_scan" else column

    where: list[ColumnElement[bool]] = []
    if flt.registry:
        where.append(plain(ImageRow.registry_host) == flt.registry)
    if flt.repository:
        where.append(ImageRow.repository.icontains(flt.repository[:MAX_TEXT], autoescape=True))
    if flt.health:
        where.append(plain(ImageRow.health) == flt.health)
    if flt.severity:
        where.append(getattr(ImageRow, flt.severity) > 0)
    return where


def list_images(session: Session, flt: ImageFilter, cursor: str = "", limit: int = 50) -> ImagePage:
    """A page of images matching ``flt`` in its sort order, after ``cursor``."""
    flt.check()
    where = _image_filters(flt, session.get_bind().dialect.name)
    rows, next_cursor = keyset.fetch(session, _LINE.where(*where), image_keys(flt.sort), cursor, limit)
    counted = _image_filters(replace(flt, sort=""), "")  # the count may use every index
    total = session.scalar(select(func.count()).select_from(ImageRow).where(*counted)) or 0
    return ImagePage([_line(r) for r in rows], total, next_cursor)


def registries(session: Session) -> list[str]:
    """The registry hosts images are stored under (for the filter), sorted."""
    return list(session.scalars(select(ImageRow.registry_host).distinct().order_by(ImageRow.registry_host)))


def image_facts(session: Session, image_id: int) -> ImageFacts | None:
    """The image ``image_id`` without its SBOM, or None."""
    row = session.execute(select(*_FACTS).where(ImageRow.id == image_id)).first()
    return _facts(row) if row is not None else None


def image_sbom(session: Session, image_id: int) -> str:
    """The stored native SBOM of the image ("" when none)."""
    return session.scalar(select(ImageRow.sbom).where(ImageRow.id == image_id)) or ""


def inventory(sbom_text: str) -> Inventory:
    """Layers and packages from a stored native SBOM (an unreadable one is reported, not raised)."""
    if not sbom_text:
        return Inventory([], [])
    try:
        doc = json.loads(sbom_text)
        layers_doc = doc["artifact"].get("layers") or []
        packages_doc = doc.get("packages") or []
        if not isinstance(layers_doc, list) or not isinstance(packages_doc, list):
            raise TypeError("layers and packages must be lists")
        number = {str(x.get("diff_id")): i + 1 for i, x in enumerate(layers_doc) if isinstance(x, dict)}
        in_layer: dict[str, int] = {}
        packages = []
        for p in packages_doc:
            if not isinstance(p, dict):
                continue
            locations = []
            for loc in p.get("locations") or []:
                path, layer = (str(loc[0]), str(loc[1])) if isinstance(loc, list) and len(loc) == 2 else ("", "")
                locations.append((path, number.get(layer)))
                in_layer[layer] = in_layer.get(layer, 0) + 1
            licenses = tuple(str(x) for x in p.get("licenses") or [])
            packages.append(PackageLine(str(p.get("name", "")), str(p.get("version", "")), str(p.get("type", "")),
                                        str(p.get("purl", "")), licenses, tuple(locations)))
        layers = [LayerLine(i + 1, str(x.get("digest", "")), str(x.get("diff_id", "")), int(x.get("size") or 0),
                            str(x.get("created_by", "")), in_layer.get(str(x.get("diff_id")), 0))
                  for i, x in enumerate(layers_doc) if isinstance(x, dict)]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Inventory([], [], f"the stored SBOM cannot be read ({type(exc).__name__})")
    packages.sort(key=lambda p: (p.name.lower(), p.version))
    return Inventory(layers, packages)


def package_page(packages: Sequence[PackageLine], text: str = "", page: int = 1, size: int = 50,
                 layer: int = 0) -> PackagePage:
    """Page ``page`` (1-based) of the packages whose name contains ``text`` (and, with ``layer``, that
    were found in that layer)."""
    needle = text[:MAX_TEXT].lower()
    found = [p for p in packages if needle in p.name.lower()] if needle else list(packages)
    if layer:
        found = [p for p in found if any(n == layer for _, n in p.locations)]
    pages = max(1, -(-len(found) // size))
    page = min(max(1, page), pages)
    return PackagePage(found[(page - 1) * size: page * size], len(found), page, pages)


_RANK = case({level: i for i, level in enumerate(SEVERITY_LEVELS)}, value=FindingRow.severity,
             else_=len(SEVERITY_LEVELS))
"""Severity as a number (0 critical … 5 unknown) for sorting in SQL."""


def vuln_keys(sort: str, reverse: bool = False) -> list[Key]:
    """The sort keys of the vulnerability table (``reverse`` flips the first key)."""
    ident = Key(FindingRow.id)
    if sort == "cvss":
        return [Key(FindingRow.cvss_score, descending=not reverse, nullable=True, kind=float),
                Key(_RANK), ident]
    if sort == "package":
        return [Key(FindingRow.package_name, descending=reverse, kind=str), Key(_RANK), ident]
    if sort == "id":
        return [Key(FindingRow.vuln_id, descending=reverse, kind=str), ident]
    return [Key(_RANK, descending=reverse), Key(FindingRow.cvss_score, descending=True, nullable=True, kind=float),
            ident]


def _vuln_filters(image_id: int, flt: VulnFilter) -> list[ColumnElement[bool]]:
    where = [FindingRow.image_id == image_id, FindingRow.state == flt.state]
    if flt.severity:
        where.append(FindingRow.severity == flt.severity.upper())
    if flt.package:
        where.append(FindingRow.package_name.icontains(flt.package[:MAX_TEXT], autoescape=True))
    if flt.fixable:
        where.append(FindingRow.fixed_version != "")
    return where


def list_vulnerabilities(session: Session, image_id: int, flt: VulnFilter, cursor: str = "",
                         limit: int = 50) -> VulnPage:
    """A page of the image's vulnerabilities matching ``flt``, in its sort order, after ``cursor``."""
    flt.check()
    where = _vuln_filters(image_id, flt)
    query: AnySelect = select(FindingRow.id, FindingRow.vuln_id, FindingRow.title, FindingRow.package_name,
                                FindingRow.package_type, FindingRow.installed_version, FindingRow.fixed_version,
                                FindingRow.fix_state, FindingRow.severity, FindingRow.cvss_score).where(*where)
    rows, next_cursor = keyset.fetch(session, query, vuln_keys(flt.sort, flt.descending), cursor, limit)
    total = session.scalar(select(func.count()).select_from(FindingRow).where(*where)) or 0
    items = [VulnLine(r.id, r.vuln_id, r.title, r.package_name, r.package_type, r.installed_version,
                      r.fixed_version, r.severity, r.cvss_score, remediation(r)) for r in rows]
    return VulnPage(items, total, next_cursor)


def remediation(r: Any) -> str:
    """The API's remediation sentence for a finding row's package, versions and fix state."""
    return remediation_text(FindingRow(package_name=r.package_name, installed_version=r.installed_version,
                                   fixed_version=r.fixed_version, fix_state=r.fix_state))


def vulnerability(session: Session, image_id: int, finding_id: int) -> VulnDetail | None:
    """Finding ``finding_id`` of image ``image_id`` (None when either is missing or they do not match)."""
    row = session.get(FindingRow, finding_id)
    if row is None or row.image_id != image_id:
        return None
    image = image_facts(session, image_id)
    if image is None:
        return None
    package = dict(row.package or {})
    locations = [(str(loc[0]), str(loc[1])) for loc in package.get("locations") or []
                 if isinstance(loc, list) and len(loc) == 2]
    references = [Reference(str(ref), str(ref).lower().startswith(("https://", "http://")))
                  for ref in row.references or []]
    evidence = [e for e in row.evidence or [] if isinstance(e, dict)]
    return VulnDetail(row, image, remediation_text(row), references, locations, str(package.get("purl", "")), evidence)


def unhealthy_first(session: Session, cursor: str = "", limit: int = 50) -> tuple[list[ImageLine], str]:
    """Images by health (Unhealthy, then Healthy, NotApplicable, Pending), most critical first: the
    resources of the image recommendation."""
    rank = case({"Unhealthy": 0, "Healthy": 1, "NotApplicable": 2}, value=ImageRow.health, else_=3)
    keys = [Key(rank), Key(ImageRow.critical, descending=True), Key(ImageRow.high, descending=True),
            Key(ImageRow.id)]
    rows, next_cursor = keyset.fetch(session, _LINE, keys, cursor, limit)
    return [_line(r) for r in rows], next_cursor
