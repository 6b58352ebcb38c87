"""``containerguard server``: the API, registry webhooks and scan workers in one process.

The server's libraries (SQLAlchemy, FastAPI, uvicorn) are imported when the command runs, so
the scanning commands do not pay for them at start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from containerguard.store.db import Store


def first_admin_token(store: Store) -> str:
    """A new admin token when the store has none yet ("" otherwise): printed once, never stored."""
    from containerguard.store.tokens import count_tokens, create_token

    with store.session() as session:
        if count_tokens(session, "admin"):
            return ""
        token, _ = create_token(session, "admin", name="first admin token")
    return token


def server(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8080,
    workers: Annotated[int | None, typer.Option("--workers", help="scan worker threads (default 4)")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug | info | warning | error")] = "info",
) -> None:
    """Run the security center: REST API, registry webhooks, scan workers, re-assessment."""
    import uvicorn

    from containerguard.api.app import create_app
    from containerguard.jobs.config import load_server_config
    from containerguard.jobs.context import JobContext
    from containerguard.store.db import Store, migrate

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_server_config(host, port)
    if workers is not None:
        config = dataclasses.replace(config, workers=max(1, workers))
    store = Store(config.url)
    migrate(store.engine)
    token = first_admin_token(store)
    if token:
        print(f"containerguard: first admin token (shown once): {token}", file=sys.stderr, flush=True)
    app = create_app(config, JobContext.create(config, store))
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())
