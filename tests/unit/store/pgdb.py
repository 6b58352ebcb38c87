"""Throwaway PostgreSQL databases for tests: ``cg_test_<random>`` on 127.0.0.1:5432 (user postgres,
trust auth), created for one test run and dropped after. Skipped when no server answers, unless
``CG_REQUIRE_INTEGRATION=1`` (make test; then the tests fail instead)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from needs import missing

if TYPE_CHECKING:
    import psycopg

ADMIN_DSN = os.environ.get("CG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_connect() -> psycopg.Connection[Any]:
    import psycopg

    return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5)


def postgres_available() -> bool:
    """Whether the test PostgreSQL answers."""
    try:
        with _admin_connect():
            return True
    except Exception:
        return False


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh database; yields its SQLAlchemy URL (psycopg 3 driver) and drops it afterwards."""
    if not postgres_available():
        missing(f"PostgreSQL not reachable at {ADMIN_DSN}")
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
