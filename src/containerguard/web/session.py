"""Dashboard sessions: a login exchanges an API token for an encrypted, expiring cookie.

The cookie holds the token row's id, the role, a CSRF secret and an expiry, sealed with the data
home's Fernet key (authenticated encryption: it cannot be forged or read). It is HttpOnly and
SameSite=Strict; every state-changing form also carries the CSRF secret, compared in constant time.
A deleted token ends its sessions at the next request.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, Request

from containerguard.api.deps import context
from containerguard.jobs.context import JobContext
from containerguard.store.secrets import load_key
from containerguard.store.tables import TokenRow

COOKIE = "cg_session"
LIFETIME = 12 * 3600
"""Seconds a session lasts."""
ROLES = frozenset({"admin", "reader"})
"""Roles that may use the dashboard (agent and webhook tokens may not)."""


@dataclass(frozen=True)
class Viewer:
    """The person looking at a page: their token's id and role, and the session's CSRF secret."""

    token_id: int
    role: str
    csrf: str
    expires: int

    @property
    def admin(self) -> bool:
        """Whether admin pages and actions are open to them."""
        return self.role == "admin"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Forbidden(Exception):
    """A valid session whose role may not do this (or a failed CSRF check)."""


def _fernet(ctx: JobContext) -> Fernet:
    return Fernet(load_key(ctx.config.settings))


def seal(ctx: JobContext, token_id: int, role: str) -> tuple[str, Viewer]:
    """A new session for the token ``token_id``: the cookie value and its viewer."""
    viewer = Viewer(token_id, role, secrets.token_urlsafe(24), int(time.time()) + LIFETIME)
    payload = json.dumps({"t": viewer.token_id, "r": viewer.role, "c": viewer.csrf, "e": viewer.expires})
    return _fernet(ctx).encrypt(payload.encode()).decode(), viewer


def unseal(ctx: JobContext, cookie: str) -> Viewer | None:
    """The viewer of ``cookie``; None when it is forged, expired or malformed."""
    try:
        data = json.loads(_fernet(ctx).decrypt(cookie.encode(), ttl=LIFETIME))
        viewer = Viewer(int(data["t"]), str(data["r"]), str(data["c"]), int(data["e"]))
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None
    return viewer if viewer.expires > time.time() and viewer.role in ROLES else None


def login_path(request: Request) -> str:
    """``/login?next=...`` back to the page asked for."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(here, safe='')}"


def current_viewer(request: Request, ctx: Annotated[JobContext, Depends(context)]) -> Viewer:
    """The signed-in viewer, or :class:`LoginRequired` (the app turns it into a redirect)."""
    viewer = unseal(ctx, request.cookies.get(COOKIE, ""))
    if viewer is None:
        raise LoginRequired(login_path(request))
    with ctx.store.session() as s:
        row = s.get(TokenRow, viewer.token_id)
        if row is None or row.role != viewer.role:
            raise LoginRequired(login_path(request))
    return viewer


def require_admin(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """The viewer, if an admin; :class:`Forbidden` otherwise."""
    if not viewer.admin:
        raise Forbidden("this page is for admin tokens")
    return viewer


def check_csrf(viewer: Viewer, sent: str) -> None:
    """:class:`Forbidden` unless ``sent`` is the session's CSRF secret."""
    if not sent or not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
        raise Forbidden("the form expired or did not come from this dashboard; reload the page")


def safe_next(path: str) -> str:
    """Where to go after login: a local path only (no open redirect to another site)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


WebViewer = Annotated[Viewer, Depends(current_viewer)]
WebAdmin = Annotated[Viewer, Depends(require_admin)]
