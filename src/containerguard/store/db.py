"""Connecting to the store and upgrading its schema.

``CONTAINERGUARD_DATABASE_URL`` picks the database (e.g. ``postgresql+psycopg://user@host/db``);
without it the store is ``sqlite:///$CONTAINERGUARD_HOME/containerguard.db``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from containerguard.config import Settings
from containerguard.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
_migrate_lock = threading.Lock()


def database_url(settings: Settings) -> str:
    """The store's URL: the environment's, else the embedded SQLite file under the data home."""
    url = os.environ.get("CONTAINERGUARD_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{settings.home / 'containerguard.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and WAL mode."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError; any parse failure is a config error
        raise ConfigError(f"CONTAINERGUARD_DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at our migrations and ``url`` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would eat a '%' in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (idempotent)."""
    with _migrate_lock, engine.begin() as conn:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")  # feature migrations branch from 0001; apply every head


class Store:
    """An engine and its session factory: what every repository function is handed a session of."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, upgrade: bool = True) -> Store:
        """The store the settings name, schema upgraded unless ``upgrade`` is false."""
        store = cls(database_url(settings))
        if upgrade:
            migrate(store.engine)
        return store

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back on an error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()
