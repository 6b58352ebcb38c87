"""Sign in with an API token (admin or reader) and out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from containerguard.api.deps import Ctx
from containerguard.store.tokens import find_token

from ..render import SECURITY_HEADERS, render
from ..session import COOKIE, LIFETIME, ROLES, WebViewer, check_csrf, safe_next, seal

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The login page."""
    return render(request, "login.html", None, next=safe_next(next), error="")


@router.post("/login")
def login(request: Request, ctx: Ctx, token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    """Exchange a token for a session cookie. Wrong tokens get the form again with one line why."""
    token = token.strip()
    with ctx.store.session() as s:
        row = find_token(s, token) if token else None
        role = row.role if row is not None else ""
        token_id = row.id if row is not None else 0
    if row is None:
        return render(request, "login.html", None, status=401, next=safe_next(next),
                      error="That token is not valid. Create one with `containerguard token create`.")
    if role not in ROLES:
        return render(request, "login.html", None, status=403, next=safe_next(next),
                      error=f"A {role} token cannot open the dashboard; use an admin or reader token.")
    cookie, _ = seal(ctx, token_id, role)
    response = RedirectResponse(safe_next(next), status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(COOKIE, cookie, max_age=LIFETIME, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout(viewer: WebViewer, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session."""
    check_csrf(viewer, csrf)
    response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path="/")
    return response
