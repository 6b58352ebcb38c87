"""Images: the list (by registry and repository, filtered, sorted, paged in the database), an image's
page (facts, layers, vulnerabilities; packages on their own page; SBOM downloads) and one
vulnerability with its description, references, remediation and evidence."""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from containerguard.api.deps import Ctx
from containerguard.api.routes.images import SBOM_MEDIA
from containerguard.errors import ConfigError, ContainerGuardError
from containerguard.sbom.formats.base import get_format

from ..queries.images import (
    IMAGE_SORTS,
    LEVELS,
    VULN_SORTS,
    ImageFilter,
    VulnFilter,
    image_facts,
    image_sbom,
    inventory,
    list_images,
    list_vulnerabilities,
    package_page,
    registries,
    vulnerability,
)
from ..render import SECURITY_HEADERS, render
from ..session import Viewer, WebViewer

router = APIRouter()
PAGE = 50
HEALTHS = ("Unhealthy", "Healthy", "NotApplicable", "Pending")
DOWNLOADS = {"cyclonedx": "cdx.json", "spdx": "spdx.json"}
"""SBOM formats offered for download, with their file name suffix."""


def problem(request: Request, viewer: Viewer, status: int, title: str, message: str) -> Response:
    """The error page."""
    return render(request, "error.html", viewer, status=status, title=title, message=message)


def no_image(request: Request, viewer: Viewer) -> Response:
    """The 404 page of a missing image."""
    return problem(request, viewer, 404, "No such image", "The image does not exist (it may have been removed).")


@router.get("/images")
def images(request: Request, viewer: WebViewer, ctx: Ctx, registry: str = "", repository: str = "",
           health: str = "", severity: str = "", sort: str = "last_scan", cursor: str = "") -> Response:
    """Stored images, newest scan first (or by repository, or by critical count)."""
    flt = ImageFilter(registry.strip(), repository.strip(), health.strip(), severity.strip().lower(),
                      sort.strip() or "last_scan")
    with ctx.store.session() as s:
        try:
            found = list_images(s, flt, cursor, PAGE)
        except ConfigError as exc:
            return problem(request, viewer, 400, "Bad filter", str(exc))
        hosts = registries(s)
    return render(request, "images.html", viewer, title="Images", found=found, flt=flt, params=flt.params(),
                  cursor=cursor, registries=hosts, healths=HEALTHS, levels=LEVELS, sorts=IMAGE_SORTS)


@router.get("/images/{image_id:int}")
def image(request: Request, viewer: WebViewer, ctx: Ctx, image_id: int, severity: str = "", package: str = "",
          fixable: str = "", state: str = "open", sort: str = "severity", dir: str = "",
          cursor: str = "") -> Response:
    """One image: facts, layers, SBOM downloads and its vulnerabilities (filtered, sorted, paged)."""
    flt = VulnFilter(severity.strip().lower(), package.strip(), fixable not in ("", "0"), state.strip() or "open",
                     sort.strip() or "severity", dir == "reverse")
    with ctx.store.session() as s:
        facts = image_facts(s, image_id)
        if facts is None:
            return no_image(request, viewer)
        try:
            vulns = list_vulnerabilities(s, image_id, flt, cursor, PAGE)
        except ConfigError as exc:
            return problem(request, viewer, 400, "Bad filter", str(exc))
        inv = inventory(image_sbom(s, image_id))
    return render(request, "image.html", viewer, title=f"Image {facts.repository}", image=facts, inv=inv,
                  vulns=vulns, flt=flt, params=flt.params(), cursor=cursor, levels=LEVELS, sorts=VULN_SORTS,
                  downloads=DOWNLOADS)


@router.get("/images/{image_id:int}/packages")
def packages(request: Request, viewer: WebViewer, ctx: Ctx, image_id: int, q: str = "", layer: int = 0,
             page: int = 1) -> Response:
    """The image's packages from its stored SBOM, filtered by name (and layer), paged."""
    with ctx.store.session() as s:
        facts = image_facts(s, image_id)
        if facts is None:
            return no_image(request, viewer)
        inv = inventory(image_sbom(s, image_id))
    found = package_page(inv.packages, q.strip(), page, PAGE, layer)
    return render(request, "image_packages.html", viewer, title=f"Packages of {facts.repository}", image=facts,
                  inv=inv, found=found, q=q.strip(), layer=layer, params={"q": q.strip(), "layer": layer or ""},
                  downloads=DOWNLOADS)


def attachment_name(repository: str, digest: str, suffix: str) -> str:
    """A file name safe in a Content-Disposition header: ``team_app-0123456789ab.cdx.json``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", repository).strip("._") or "image"
    return f"{stem[:80]}-{digest.partition(':')[2][:12] or 'unknown'}.{suffix}"


@router.get("/images/{image_id:int}/sbom")
def sbom(request: Request, viewer: WebViewer, ctx: Ctx, image_id: int, format: str = "cyclonedx") -> Response:
    """The stored SBOM as a CycloneDX or SPDX file download (the API's writers)."""
    if format not in DOWNLOADS:
        return problem(request, viewer, 400, "Unknown format", f"SBOM formats: {', '.join(DOWNLOADS)}")
    with ctx.store.session() as s:
        facts = image_facts(s, image_id)
        text = image_sbom(s, image_id) if facts is not None else ""
    if facts is None:
        return no_image(request, viewer)
    if not text:
        return problem(request, viewer, 404, "No SBOM yet", "The image has not been scanned yet.")
    try:
        body = get_format(format).write(get_format("json").read(json.loads(text)))
    except (ValueError, ContainerGuardError) as exc:
        return problem(request, viewer, 500, "SBOM unreadable", f"The stored SBOM cannot be converted: {exc}")
    name = attachment_name(facts.repository, facts.digest, DOWNLOADS[format])
    return Response(body, media_type=SBOM_MEDIA[format],
                    headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/images/{image_id:int}/vulnerabilities/{finding_id:int}")
def vulnerability_page(request: Request, viewer: WebViewer, ctx: Ctx, image_id: int, finding_id: int) -> Response:
    """One vulnerability of one image."""
    with ctx.store.session() as s:
        detail = vulnerability(s, image_id, finding_id)
    if detail is None:
        return problem(request, viewer, 404, "No such vulnerability",
                       "The image has no such vulnerability (it may have been removed).")
    title = f"{detail.row.vuln_id} in {detail.image.repository}"
    return render(request, "image_vulnerability.html", viewer, title=title, d=detail)
