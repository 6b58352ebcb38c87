"""Mounts the dashboard on the API's application: the page routers, static files, and the answers
to a missing session (redirect to the login page) and to a forbidden action (403 page)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from .render import SECURITY_HEADERS, render
from .session import Forbidden, LoginRequired, current_viewer

STATIC = Path(__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Add the dashboard to ``app``: every module of :mod:`.pages` with a ``router``, and /static."""
    from containerguard.web import pages

    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{pages.__name__}.{info.name}")
        if hasattr(module, "router"):
            app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.next_path, status_code=303, headers=SECURITY_HEADERS)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        try:
            viewer = current_viewer(request, request.app.state.ctx)
        except LoginRequired:
            viewer = None
        return render(request, "error.html", viewer, status=403, title="Not allowed", message=str(exc))
