"""Request dependencies: the server's context, a session, and bearer-token authentication."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from containerguard.jobs.context import JobContext
from containerguard.jobs.inprocess import InProcessDispatcher
from containerguard.store.tokens import find_token


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's role (and registry, for webhook secrets)."""

    token_id: int
    role: str
    registry_id: int | None = None


def context(request: Request) -> JobContext:
    """The server's job context."""
    ctx: JobContext = request.app.state.ctx
    return ctx


def dispatcher(request: Request) -> InProcessDispatcher:
    """The server's dispatcher."""
    found: InProcessDispatcher = request.app.state.dispatcher
    return found


def session(ctx: Annotated[JobContext, Depends(context)]) -> Iterator[Session]:
    """A session committed when the request succeeds."""
    with ctx.store.session() as s:
        yield s


def bearer(request: Request) -> str:
    """The token of ``Authorization: Bearer TOKEN`` ("" when absent)."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="containerguard"'})


def authenticate(request: Request, ctx: JobContext) -> Caller:
    """The caller of ``request``, or 401."""
    token = bearer(request)
    if not token:
        raise _unauthorized("missing bearer token")
    with ctx.store.session() as s:
        row = find_token(s, token)
        if row is None:
            raise _unauthorized("invalid token")
        return Caller(row.id, row.role, row.registry_id)


def require(*roles: str) -> Callable[..., Caller]:
    """A dependency admitting callers whose role is one of ``roles`` (admin is always admitted)."""
    allowed = frozenset(roles) | {"admin"}

    def check(request: Request, ctx: Annotated[JobContext, Depends(context)]) -> Caller:
        caller = authenticate(request, ctx)
        if caller.role not in allowed:
            raise HTTPException(403, f"a {caller.role} token may not call this endpoint")
        return caller

    return check


Reader = Annotated[Caller, Depends(require("reader"))]
Admin = Annotated[Caller, Depends(require("admin"))]
Webhook = Annotated[Caller, Depends(require("webhook"))]
Db = Annotated[Session, Depends(session)]
Ctx = Annotated[JobContext, Depends(context)]
Jobs = Annotated[InProcessDispatcher, Depends(dispatcher)]
