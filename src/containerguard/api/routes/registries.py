"""Registries: register (credentials encrypted, webhook secret issued), list, remove, crawl."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from containerguard.jobs.context import JobContext
from containerguard.jobs.dispatch import CRAWL, Dispatcher, Job
from containerguard.store import registries as repo
from containerguard.store.tables import RegistryRow

from ..deps import Admin, Ctx, Db, Jobs, Reader
from ..shapes import registry_doc

router = APIRouter(prefix="/api/v1/registries", tags=["registries"])
WEBHOOK_PATH = "/api/v1/webhooks/distribution"


class RegistryIn(BaseModel):
    """A registry to register."""

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=500, description="http(s)://host[:port]")
    insecure: bool = False
    username: str | None = None
    password: str | None = None


def webhook_url(ctx: Ctx, request: Request) -> str:
    """Where the registry should POST its notifications."""
    base = ctx.config.public_url or str(request.base_url).rstrip("/")
    return f"{base}{WEBHOOK_PATH}"


def register_registry(ctx: JobContext, db: Session, jobs: Dispatcher, body: RegistryIn) -> tuple[RegistryRow, str]:
    """Register ``body`` (credentials encrypted, a webhook secret issued), commit, and queue the first
    catalog crawl; returns the row and the secret in clear (shown once). The API and the dashboard
    both register through here."""
    row, token = repo.add_registry(db, ctx.cipher, body.name, body.url, body.insecure, body.username or "",
                                   body.password or "")
    db.commit()
    jobs.submit(Job(CRAWL, str(row.id)))
    return row, token


@router.post("", status_code=201)
def register(body: RegistryIn, request: Request, ctx: Ctx, db: Db, jobs: Jobs, _: Admin) -> dict[str, Any]:
    """Register a registry; the answer holds the notification endpoint to configure in it (shown once)."""
    row, token = register_registry(ctx, db, jobs, body)
    return {"id": row.id, "webhook": {"url": webhook_url(ctx, request), "authorization": f"Bearer {token}"},
            "registry": registry_doc(row)}


@router.get("")
def list_all(db: Db, _: Reader) -> dict[str, Any]:
    """Every registry (never a password)."""
    return {"items": [registry_doc(r) for r in repo.list_registries(db)], "next": None}


@router.get("/{registry_id}")
def get_one(registry_id: int, db: Db, _: Reader) -> dict[str, Any]:
    """One registry."""
    row = repo.get_registry(db, registry_id)
    if row is None:
        raise HTTPException(404, "no such registry")
    return registry_doc(row)


@router.delete("/{registry_id}", status_code=204, response_class=Response)
def remove(registry_id: int, db: Db, _: Admin) -> Response:
    """Remove a registry and its webhook secret (its images stay)."""
    if not repo.delete_registry(db, registry_id):
        raise HTTPException(404, "no such registry")
    return Response(status_code=204)


@router.post("/{registry_id}/crawl", status_code=202)
def crawl(registry_id: int, db: Db, jobs: Jobs, _: Admin) -> dict[str, Any]:
    """Crawl the registry's catalog now."""
    if repo.get_registry(db, registry_id) is None:
        raise HTTPException(404, "no such registry")
    jobs.submit(Job(CRAWL, str(registry_id)))
    return {"status": "queued"}
