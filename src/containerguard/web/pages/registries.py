"""Registries: readers see the list; admins register one (exactly as ``POST /api/v1/registries`` does:
credentials encrypted, a webhook secret issued, the first crawl queued), see once the
``notifications`` snippet for the registry's ``config.yml``, crawl now, and remove one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from containerguard.api.deps import Ctx, Jobs
from containerguard.api.routes.registries import RegistryIn, register_registry, webhook_url
from containerguard.errors import ConfigError
from containerguard.jobs.dispatch import CRAWL, Job
from containerguard.store import registries as repo

from ..queries.admin import registry_lines
from ..render import SECURITY_HEADERS, render
from ..session import Viewer, WebAdmin, WebViewer, check_csrf

router = APIRouter()
ENDPOINT_NAME = "containerguard"
NOTICES = {"deleted": "The registry was removed. Its images stay, unlinked; its webhook secret no longer works.",
           "crawl": "A crawl of the registry's catalog is queued: new images appear under Images as they are scanned."}


def notification_config(url: str, secret: str) -> str:
    """The ``notifications`` section of a CNCF Distribution (Debian ``docker-registry``) ``config.yml``
    that sends every push to ``url`` signed with ``secret``. Header values are lists, as the
    registry's configuration requires; the secret is URL-safe base64, so it needs no YAML quoting."""
    return (
        "notifications:\n"
        "  endpoints:\n"
        f"    - name: {ENDPOINT_NAME}\n"
        f"      url: {url}\n"
        "      headers:\n"
        f"        Authorization: [Bearer {secret}]\n"
        "      timeout: 5s\n"
        "      threshold: 5\n"
        "      backoff: 10s\n")


def _problem(request: Request, viewer: Viewer, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", viewer, status=status, title=title, message=message)


def _list(request: Request, viewer: Viewer, ctx: Ctx, status: int = 200, notice: str = "", error: str = "",
          form: dict[str, str] | None = None) -> Response:
    with ctx.store.session() as s:
        lines = registry_lines(s)
    return render(request, "registries.html", viewer, status=status, title="Registries", registries=lines,
                  notice=notice, error=error, form=form or {"name": "", "url": "", "username": "", "insecure": ""})


@router.get("/registries")
def registries(request: Request, viewer: WebViewer, ctx: Ctx, done: str = "") -> Response:
    """Every registry with its last crawl; the registration form for admins."""
    return _list(request, viewer, ctx, notice=NOTICES.get(done, ""))


def _validation_message(exc: ValidationError) -> str:
    labels = {"name": "Name", "url": "URL", "username": "User name", "password": "Password"}
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else ""
        parts.append(f"{labels.get(field, field)}: {err['msg']}")
    return "; ".join(parts)


@router.post("/registries")
def register(request: Request, viewer: WebAdmin, ctx: Ctx, jobs: Jobs, csrf: Annotated[str, Form()] = "",
             name: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
             insecure: Annotated[str, Form()] = "", username: Annotated[str, Form()] = "",
             password: Annotated[str, Form()] = "") -> Response:
    """Register a registry and show, this once, the snippet that points its notifications here."""
    check_csrf(viewer, csrf)
    form = {"name": name, "url": url, "username": username, "insecure": "on" if insecure else ""}
    try:
        body = RegistryIn(name=name.strip(), url=url.strip(), insecure=bool(insecure),
                          username=username.strip() or None, password=password or None)
    except ValidationError as exc:
        return _list(request, viewer, ctx, status=400, error=_validation_message(exc), form=form)
    try:
        with ctx.store.session() as s:
            row, secret = register_registry(ctx, s, jobs, body)
    except ConfigError as exc:
        return _list(request, viewer, ctx, status=400, error=str(exc), form=form)
    hook = webhook_url(ctx, request)
    return render(request, "registries_added.html", viewer, status=201, title="Registry registered", registry=row,
                  webhook=hook, secret=secret, snippet=notification_config(hook, secret))


@router.post("/registries/{registry_id:int}/crawl")
def crawl(request: Request, viewer: WebAdmin, ctx: Ctx, jobs: Jobs, registry_id: int,
          csrf: Annotated[str, Form()] = "") -> Response:
    """Crawl the registry's catalog now."""
    check_csrf(viewer, csrf)
    with ctx.store.session() as s:
        found = repo.get_registry(s, registry_id) is not None
    if not found:
        return _problem(request, viewer, 404, "No such registry", "The registry does not exist.")
    jobs.submit(Job(CRAWL, str(registry_id)))
    return RedirectResponse("/registries?done=crawl", status_code=303, headers=SECURITY_HEADERS)


@router.get("/registries/{registry_id:int}/delete")
def confirm_delete(request: Request, viewer: WebAdmin, ctx: Ctx, registry_id: int) -> Response:
    """Ask before removing a registry (works without JavaScript)."""
    with ctx.store.session() as s:
        row = repo.get_registry(s, registry_id)
    if row is None:
        return _problem(request, viewer, 404, "No such registry", "The registry does not exist.")
    return render(request, "registries_delete.html", viewer, title=f"Remove {row.name}", registry=row)


@router.post("/registries/{registry_id:int}/delete")
def delete(request: Request, viewer: WebAdmin, ctx: Ctx, registry_id: int,
           csrf: Annotated[str, Form()] = "") -> Response:
    """Remove a registry and its webhook secret (its images stay)."""
    check_csrf(viewer, csrf)
    with ctx.store.session() as s:
        removed = repo.delete_registry(s, registry_id)
    if not removed:
        return _problem(request, viewer, 404, "No such registry", "The registry does not exist.")
    return RedirectResponse("/registries?done=deleted", status_code=303, headers=SECURITY_HEADERS)
