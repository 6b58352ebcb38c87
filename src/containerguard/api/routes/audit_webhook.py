"""The Kubernetes API server's audit webhook backend: ``POST /api/v1/k8s/audit`` with an ``audit.k8s.io/v1``
EventList. Events go through a bounded queue to the rule engine (built-in pack + ``CONTAINERGUARD_RULES``);
when the queue is full they are dropped and counted, in the answer and in ``/metrics``.

The API server's webhook kubeconfig carries an agent or webhook token as its bearer token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from containerguard.sources.events.base import MAX_EVENT_BYTES

from ..deps import Caller, Reader, require
from .alerts import Runtime

router = APIRouter(prefix="/api/v1/k8s/audit", tags=["alerts"])
AuditSender = Annotated[Caller, Depends(require("agent", "webhook"))]
MAX_BODY = MAX_EVENT_BYTES * 16


@router.post("")
async def audit(request: Request, runtime: Runtime, _: AuditSender) -> dict[str, Any]:
    """Queue an EventList (or one Event) for evaluation; answers at once with what was accepted/dropped."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPException(413, "audit body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(413, "audit body too large")
    return await run_in_threadpool(runtime.submit_audit, bytes(body))


@router.get("/stats")
def audit_stats(runtime: Runtime, _: Reader) -> dict[str, Any]:
    """Counters of the audit webhook: received, accepted, dropped (queue full), skipped, evaluated, alerts."""
    return runtime.audit_doc()
