"""Tokens (admin only): the list (never a hash), creating an admin, reader or agent token (the token is
shown once), and removing one. The token of the session in use cannot be removed here: that would
sign the admin out mid-action and could remove the last admin token; sign in with another one first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from containerguard.api.deps import Ctx
from containerguard.errors import ConfigError
from containerguard.store.tokens import create_token

from ..queries.admin import DASHBOARD_ROLES, delete_token, token_line, token_page
from ..render import SECURITY_HEADERS, render
from ..session import Viewer, WebAdmin, check_csrf

router = APIRouter()
MAX_NAME = 200
NOTICES = {"deleted": "The token was removed: anything still using it is refused from now on."}
ROLE_HELP = {
    "admin": "everything: the dashboard, registering registries, hosts and clusters, tokens",
    "reader": "read-only: the dashboard and the API's GET endpoints",
    "agent": "posts runtime alerts (containerguard watch --server); hosts get their own agent token when registered",
}


def _problem(request: Request, viewer: Viewer, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", viewer, status=status, title=title, message=message)


def _list(request: Request, viewer: Viewer, ctx: Ctx, cursor: str = "", status: int = 200, notice: str = "",
          error: str = "", name: str = "", role: str = "reader") -> Response:
    with ctx.store.session() as s:
        try:
            tokens = token_page(s, cursor)
        except ConfigError as exc:
            return _problem(request, viewer, 400, "Bad page link", str(exc))
    return render(request, "tokens.html", viewer, status=status, title="Tokens", tokens=tokens, cursor=cursor,
                  notice=notice, error=error, name=name, role=role, roles=DASHBOARD_ROLES, role_help=ROLE_HELP)


@router.get("/tokens")
def tokens(request: Request, viewer: WebAdmin, ctx: Ctx, cursor: str = "", done: str = "") -> Response:
    """Every token: name, role, what it belongs to, created, last used."""
    return _list(request, viewer, ctx, cursor=cursor, notice=NOTICES.get(done, ""))


@router.post("/tokens")
def create(request: Request, viewer: WebAdmin, ctx: Ctx, csrf: Annotated[str, Form()] = "",
           name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "") -> Response:
    """Create a token and show it, this once."""
    check_csrf(viewer, csrf)
    name = name.strip()
    if role not in DASHBOARD_ROLES:
        return _list(request, viewer, ctx, status=400, error=f"Role must be one of {', '.join(DASHBOARD_ROLES)}.",
                     name=name)
    if not name or len(name) > MAX_NAME:
        return _list(request, viewer, ctx, status=400, role=role, name=name[:MAX_NAME],
                     error=f"Give the token a name of 1 to {MAX_NAME} characters (who or what uses it).")
    with ctx.store.session() as s:
        token, row = create_token(s, role, name=name)
        created = (row.id, row.name, row.role)
    return render(request, "tokens_created.html", viewer, status=201, title="Token created", token=token,
                  token_id=created[0], name=created[1], role=created[2], role_help=ROLE_HELP)


@router.get("/tokens/{token_id:int}/delete")
def confirm_delete(request: Request, viewer: WebAdmin, ctx: Ctx, token_id: int) -> Response:
    """Ask before removing a token (works without JavaScript)."""
    with ctx.store.session() as s:
        line = token_line(s, token_id)
    if line is None:
        return _problem(request, viewer, 404, "No such token", "The token does not exist.")
    return render(request, "tokens_delete.html", viewer, title=f"Remove token {line.name}", t=line,
                  own=token_id == viewer.token_id)


@router.post("/tokens/{token_id:int}/delete")
def delete(request: Request, viewer: WebAdmin, ctx: Ctx, token_id: int, csrf: Annotated[str, Form()] = "") -> Response:
    """Remove a token, unless it is the one this session signed in with."""
    check_csrf(viewer, csrf)
    if token_id == viewer.token_id:
        return _problem(request, viewer, 400, "Not removed",
                        "You are signed in with this token. Sign in with another admin token to remove it.")
    with ctx.store.session() as s:
        removed = delete_token(s, token_id)
    if not removed:
        return _problem(request, viewer, 404, "No such token", "The token does not exist.")
    return RedirectResponse("/tokens?done=deleted", status_code=303, headers=SECURITY_HEADERS)
