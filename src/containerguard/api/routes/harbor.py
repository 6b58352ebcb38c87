"""Harbor Pluggable Scanner Adapter API v1.1/v1.2, so a Harbor installation can use containerguard
as its scanner (Interrogation Services → Scanners → New scanner, endpoint ``http://HOST:8080``).

- ``GET /api/v1/metadata``: the scanner and its capabilities (vulnerability and SBOM reports).
- ``POST /api/v1/scan``: queue a scan of the artifact, pulled from Harbor's registry URL with the
  ``Authorization`` header Harbor gives (a robot account's Basic credentials, or a Bearer token);
  answers 202 ``{"id"}``, the id of an ordinary scan (also seen under ``/api/v1/scans``).
- ``GET /api/v1/scan/{id}/report``: 302 with ``Refresh-After`` while the scan is queued or running,
  200 with the report in the ``Accept``-ed type when done, 500 with the error when it failed.

Auth: register the scanner in Harbor with authorization "Bearer" and a containerguard token of
role ``webhook`` (``containerguard token create --role webhook --name harbor``) or ``admin``; Harbor's
"APIKey" mode (header ``X-ScannerAdapter-API-Key``) is accepted with the same tokens.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError, SbomError, VulnDbError
from containerguard.jobs.context import JobContext
from containerguard.jobs.dispatch import SCAN, Job
from containerguard.jobs.tasks import load_sbom
from containerguard.sbom.formats.base import get_format
from containerguard.sources.imageref import parse_ref
from containerguard.store import registries as registry_repo
from containerguard.store.findings import OPEN
from containerguard.store.scan_access import ScanAccess, forget_authorization, load_access, save_access
from containerguard.store.scans import DONE, FAILED, get_scan, new_scan
from containerguard.store.tables import FindingRow, ImageRow, ScanRow
from containerguard.store.tokens import find_token

from .. import harbor_report as hr
from ..deps import Caller, Ctx, Jobs, bearer

router = APIRouter(prefix="/api/v1", tags=["harbor"])
TRIGGER = "harbor-scanner"
REFRESH_AFTER = 2
"""Seconds Harbor is told to wait before polling a report again."""
ROLES = frozenset({"admin", "webhook"})
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")


class BadRequest(Exception):
    """A scan request Harbor should not retry: 400 (not JSON, wrong types), 422 (invalid field),
    501 (an artifact type we do not scan)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def harbor_caller(request: Request, ctx: Ctx) -> Caller:
    """The caller, by ``Authorization: Bearer`` or ``X-ScannerAdapter-API-Key``; 401/403 otherwise."""
    token = bearer(request) or request.headers.get("x-scanneradapter-api-key", "").strip()
    if not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": 'Bearer realm="containerguard"'})
    with ctx.store.session() as session:
        row = find_token(session, token)
        if row is None:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": 'Bearer realm="containerguard"'})
        caller = Caller(row.id, row.role, row.registry_id)
    if caller.role not in ROLES:
        raise HTTPException(403, f"a {caller.role} token may not call the scanner API (use webhook or admin)")
    return caller


HarborCaller = Annotated[Caller, Depends(harbor_caller)]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(hr.error(message), status_code=status, media_type=hr.ERROR_MEDIA, headers=headers)


def _vulndb_updated_at(ctx: JobContext) -> str:
    try:
        vulns = ctx.vulnerability_db()
    except VulnDbError:
        return ""
    try:
        status = getattr(vulns, "status", None)
        return str(status().built_at) if callable(status) else ""
    finally:
        close = getattr(vulns, "close", None)
        if callable(close):
            close()


@router.get("/metadata")
async def get_metadata(ctx: Ctx, _: HarborCaller) -> JSONResponse:
    """The scanner's name, vendor, version, capabilities and properties."""
    updated = await run_in_threadpool(_vulndb_updated_at, ctx)
    return JSONResponse(hr.metadata(updated), media_type=hr.METADATA_MEDIA)


# -- POST /scan ---------------------------------------------------------------------------------


def _object(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    if value is None:
        raise BadRequest(422, f"{key} is required")
    if not isinstance(value, dict):
        raise BadRequest(400, f"{key} must be an object")
    return value


def _string(doc: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(422, f"{where}.{key} is required")
        return ""
    if not isinstance(value, str):
        raise BadRequest(400, f"{where}.{key} must be a string")
    return value.strip()


def parse_scan_request(body: bytes) -> tuple[str, ScanAccess]:
    """The image reference to pull (``host/repository@digest``) and the access to pull it with."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise BadRequest(400, f"the body is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadRequest(400, "the body must be a JSON object")
    registry, artifact = _object(doc, "registry"), _object(doc, "artifact")
    url = _string(registry, "url", "registry", required=True)
    authorization = _string(registry, "authorization", "registry")
    repository = _string(artifact, "repository", "artifact", required=True)
    digest = _string(artifact, "digest", "artifact", required=True)
    tag = _string(artifact, "tag", "artifact")
    mime_type = _string(artifact, "mime_type", "artifact")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
        raise BadRequest(422, f"registry.url must be http(s)://HOST[:PORT], got {url!r}")
    if "@" in parts.netloc:
        raise BadRequest(422, "registry.url must not carry credentials (use registry.authorization)")
    if authorization and authorization.split(" ", 1)[0].lower() not in ("basic", "bearer"):
        raise BadRequest(422, "registry.authorization must be 'Basic …' or 'Bearer …'")
    if not _DIGEST.match(digest):
        raise BadRequest(422, f"artifact.digest is not a digest: {digest!r}")
    if mime_type and hr.media_key(mime_type) not in {hr.media_key(m) for m in hr.CONSUMES}:
        raise BadRequest(501, f"cannot scan artifacts of type {mime_type} (only image manifests)")
    ref = f"{parts.netloc}/{repository}@{digest}"
    try:
        parsed = parse_ref(ref)
    except ConfigError as exc:
        raise BadRequest(422, f"artifact.repository: {exc}") from exc
    if parsed.repository != repository:
        raise BadRequest(422, f"artifact.repository is not a repository name: {repository!r}")
    access = ScanAccess(registry_url=url, authorization=authorization, insecure=parts.scheme == "http",
                        artifact={"repository": repository, "digest": digest, "tag": tag, "mime_type": mime_type})
    return ref, access


def _queue(ctx: JobContext, ref: str, access: ScanAccess) -> str:
    parsed = parse_ref(ref)
    artifact = access.artifact
    with ctx.store.session() as session:
        registered = registry_repo.find_by_host(session, parsed.host)
        scan = new_scan(session, ref, registry_host=parsed.host, repository=parsed.repository,
                        digest=artifact["digest"], tags=(artifact["tag"],) if artifact["tag"] else (),
                        trigger=TRIGGER, registry_id=registered.id if registered is not None else None)
        save_access(session, ctx.cipher, scan.id, access)
        scan_id = scan.id
    return scan_id


@router.post("/scan", status_code=202, responses={400: {}, 422: {}, 501: {}})
async def accept_scan(request: Request, ctx: Ctx, jobs: Jobs, _: HarborCaller) -> Response:
    """Queue a scan of ``artifact`` from ``registry`` (Harbor's ``ScanRequest``); 202 ``{"id"}``."""
    try:
        ref, access = parse_scan_request(await request.body())
    except BadRequest as exc:
        return _error(exc.status, str(exc))
    scan_id = await run_in_threadpool(_queue, ctx, ref, access)
    jobs.submit(Job(SCAN))
    return JSONResponse({"id": scan_id}, status_code=202, media_type=hr.SCAN_RESPONSE_MEDIA)


# -- GET /scan/{id}/report ----------------------------------------------------------------------


def _image(session: Session, scan: ScanRow) -> ImageRow | None:
    rows = [row for row in (session.get(ImageRow, i) for i in scan.images or []) if row is not None]
    return next((row for row in rows if row.digest == scan.digest), rows[0] if rows else None)


def _artifact(scan: ScanRow, access: ScanAccess | None) -> dict[str, str]:
    if access is not None and access.artifact:
        return dict(access.artifact)
    return {"repository": scan.repository, "digest": scan.digest, "tag": next(iter(scan.tags or []), ""),
            "mime_type": ""}


def _report(ctx: JobContext, scan_id: str, media: str, sbom_media: str) -> Response:
    with ctx.store.session() as session:
        scan = get_scan(session, scan_id)
        if scan is None:
            return _error(404, f"no scan request {scan_id}")
        if scan.status not in (DONE, FAILED):
            return Response(status_code=302, headers={"Refresh-After": str(REFRESH_AFTER)})
        access = load_access(session, ctx.cipher, scan.id)
        forget_authorization(session, scan.id)
        if scan.status == FAILED:
            return _error(500, f"scan of {scan.ref} failed: {scan.error}")
        image = _image(session, scan)
        if image is None or not image.sbom:
            return _error(500, f"scan of {scan.ref} stored no image")
        artifact = _artifact(scan, access)
        try:
            sbom = load_sbom(image)
        except (SbomError, ValueError, KeyError) as exc:
            return _error(500, f"the stored SBOM of {scan.ref} is unreadable: {exc}")
        if media == hr.SBOM_REPORT:
            document = json.loads(get_format(hr.SBOM_MEDIA_TYPES[sbom_media]).write(sbom))
            body = hr.sbom_report(artifact, image.last_scan or scan.finished_at, sbom_media, document, image)
            return JSONResponse(body, media_type=media)
        if image.assessed_at is None:
            return _error(500, f"{scan.ref} was inventoried but not assessed: no vulnerability database yet "
                               "(run 'containerguard db update' or 'db import')")
        findings = list(session.scalars(select(FindingRow).where(FindingRow.image_id == image.id,
                                                                 FindingRow.state == OPEN).order_by(FindingRow.id)))
        layers = {layer.diff_id: layer.digest for layer in sbom.artifact.layers}
        body = hr.vulnerability_report(artifact, image.assessed_at, findings, layers)
        return JSONResponse(body, media_type=media)


@router.get("/scan/{scan_request_id}/report", responses={302: {}, 400: {}, 404: {}, 500: {}, 501: {}})
async def get_report(scan_request_id: str, request: Request, ctx: Ctx, _: HarborCaller,
                     sbom_media_type: str = "") -> Response:
    """The report of a scan request in the ``Accept``-ed type (302 + ``Refresh-After`` while running)."""
    media = hr.pick_media(request.headers.get("accept", ""), hr.PRODUCES)
    if not media:
        return _error(501, f"cannot produce {request.headers.get('accept')!r} (produces: {', '.join(hr.PRODUCES)})")
    sbom_media = sbom_media_type.strip() if media == hr.SBOM_REPORT else ""
    if media == hr.SBOM_REPORT and sbom_media not in hr.SBOM_MEDIA_TYPES:
        return _error(400, "an SBOM report needs ?sbom_media_type= one of " + ", ".join(hr.SBOM_MEDIA_TYPES))
    return await run_in_threadpool(_report, ctx, scan_request_id, media, sbom_media)
