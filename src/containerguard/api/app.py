"""The FastAPI application: ``create_app(config)`` wires the store, the workers and the routes."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from containerguard import __version__
from containerguard.errors import ConfigError, ContainerGuardError
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.jobs.inprocess import InProcessDispatcher
from containerguard.store.db import migrate

log = logging.getLogger("containerguard.api")


def create_app(config: ServerConfig, ctx: JobContext | None = None, start_workers: bool = True) -> FastAPI:
    """The application. The schema is upgraded and the workers started when it starts serving
    (lifespan), and the workers stopped when it shuts down."""
    context = ctx or JobContext.create(config)
    dispatcher = InProcessDispatcher(context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(context.store.engine)
        if start_workers:
            dispatcher.start()
        log.info("containerguard server ready (store %s)", context.store.engine.url.render_as_string())
        try:
            yield
        finally:
            if start_workers:
                dispatcher.stop()

    app = FastAPI(title="containerguard", version=__version__, lifespan=lifespan,
                  description="Container security center: registry scanning, assessments, vulnerabilities.")
    app.state.ctx = context
    app.state.dispatcher = dispatcher

    @app.exception_handler(ConfigError)
    async def bad_input(_: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(ContainerGuardError)
    async def failed(_: Request, exc: ContainerGuardError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=502)

    for module in route_modules():
        app.include_router(module.router)
    from containerguard.web.app import mount

    mount(app)
    return app


def route_modules() -> list[ModuleType]:
    """Every module of ``api.routes`` that has a ``router``: adding an endpoint group is one new file."""
    from containerguard.api import routes

    found = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        if hasattr(module, "router"):
            found.append(module)
    return found
