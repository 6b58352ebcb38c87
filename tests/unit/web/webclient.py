"""A dashboard client for tests: a server app on a fresh SQLite store, and a signed-in session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from containerguard.api.app import create_app
from containerguard.config import Settings
from containerguard.jobs.config import ServerConfig
from containerguard.store.tokens import create_token


@contextmanager
def web_client(home: Path) -> Iterator[TestClient]:
    """A TestClient on a new store under ``home`` (workers not started)."""
    config = ServerConfig(settings=Settings(home=home), database_url=f"sqlite:///{home / 'cg.db'}")
    with TestClient(create_app(config, start_workers=False), follow_redirects=False) as client:
        yield client


def make_token(client: TestClient, role: str) -> str:
    """A new token of ``role`` in the client's store."""
    with client.app.state.ctx.store.session() as session:  # type: ignore[attr-defined]
        token, _ = create_token(session, role, name=f"test {role}")
    return token


def sign_in(client: TestClient, role: str = "admin") -> str:
    """Sign ``client`` in with a new token of ``role``; the session's CSRF secret."""
    token = make_token(client, role)
    answer = client.post("/login", data={"token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_from_page(client, "/")


def csrf_from_page(client: TestClient, path: str = "/tokens") -> str:
    """The CSRF secret rendered into a page's forms."""
    return csrf_of(client.get(path, follow_redirects=True).text)


def csrf_of(html: str) -> str:
    """The first ``name="csrf"`` value in ``html`` ("" when none)."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return found.group(1) if found else ""
