"""Alembic environment: runs on the connection :func:`containerguard.store.db.migrate` hands over,
or connects to ``sqlalchemy.url`` when run from the ``alembic`` command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from containerguard.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables when needed.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the given connection, or on a fresh one."""
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


run_migrations_online()
