"""Registry webhooks: the Docker Distribution notification envelope and Harbor's payload.

Authenticated by the webhook secret in the ``Authorization`` header (what registering the registry
returned); anything else is refused with 401 before the body is even parsed.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from containerguard.jobs.context import JobContext
from containerguard.jobs.dispatch import SCAN, Job
from containerguard.jobs.enqueue import PushTarget, request_scan
from containerguard.jobs.inprocess import InProcessDispatcher
from containerguard.store import registries as repo

from ..deps import Caller, Ctx, Jobs, Webhook
from ..webhook_parse import ENVELOPE_MEDIA_TYPE, Pushed, distribution_events, harbor_events

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


def _enqueue(ctx: JobContext, jobs: InProcessDispatcher, caller: Caller, pushed: list[Pushed], ignored: int,
             trigger: str) -> dict[str, Any]:
    out: dict[str, Any] = {"queued": [], "coalesced": [], "tagged": [], "ignored": ignored}
    with ctx.store.session() as session:
        registry = repo.get_registry(session, caller.registry_id) if caller.registry_id else None
        for push in pushed:
            row = registry or (repo.find_by_host(session, push.host) if push.host else None)
            host = row.host if row is not None else push.host
            if not host:
                out["ignored"] += 1
                continue
            done = request_scan(session, PushTarget(host, push.repository, push.digest,
                                                    (push.tag,) if push.tag else (), row.id if row else None), trigger)
            if done.scan is None:
                out["tagged"].append(push.digest)
            elif done.created:
                out["queued"].append(done.scan.id)
            else:
                out["coalesced"].append(done.scan.id)
    if out["queued"]:
        jobs.submit(Job(SCAN))
    return out


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise HTTPException(400, "body is not JSON") from exc


@router.post("/distribution")
async def distribution(request: Request, ctx: Ctx, jobs: Jobs, caller: Webhook) -> dict[str, Any]:
    """Docker Distribution notifications (``application/vnd.docker.distribution.events.v1+json``):
    each manifest push queues one scan (coalesced per digest); other events are ignored."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip()
    if media not in (ENVELOPE_MEDIA_TYPE, "application/json"):
        raise HTTPException(415, f"expected {ENVELOPE_MEDIA_TYPE}")
    try:
        pushed, ignored = distribution_events(await _body(request))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return await run_in_threadpool(_enqueue, ctx, jobs, caller, pushed, ignored, "webhook")


@router.post("/harbor")
async def harbor(request: Request, ctx: Ctx, jobs: Jobs, caller: Webhook) -> dict[str, Any]:
    """Harbor webhooks: ``PUSH_ARTIFACT`` queues a scan per pushed artifact; other types are ignored."""
    try:
        pushed, ignored = harbor_events(await _body(request))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return await run_in_threadpool(_enqueue, ctx, jobs, caller, pushed, ignored, "harbor")
