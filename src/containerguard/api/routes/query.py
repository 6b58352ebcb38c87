"""``POST /api/v1/query``: the query language (KQL over ``securityresources`` and ``resources``).

Readers and admins may read everything through REST, so they may query everything; agent and webhook
tokens may not query. A malformed query is a 400 naming the position, a query over its time limit a 408.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from containerguard.query.errors import QueryTimeout
from containerguard.query.runner import MAX_LIMIT, run_query

from ..deps import Ctx, Reader

router = APIRouter(prefix="/api/v1", tags=["query"])


class QueryIn(BaseModel):
    """A query and, optionally, how many rows to return at most (default 1000)."""

    query: str = Field(description="KQL, e.g. securityresources | summarize count() by type")
    limit: int | None = Field(default=None, ge=1, le=MAX_LIMIT, description=f"rows to return (1 to {MAX_LIMIT})")


@router.post("/query")
def query(body: QueryIn, ctx: Ctx, _: Reader) -> dict[str, Any]:
    """Run a query: ``{"columns": [{"name", "type"}], "rows": [[...]], "truncated": bool}``."""
    try:
        return run_query(ctx.store.engine, body.query, body.limit).as_dict()
    except QueryTimeout as exc:
        raise HTTPException(408, str(exc)) from exc
