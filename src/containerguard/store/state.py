"""Small facts the server keeps between runs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .tables import StateRow

VULNDB_ASSESSED = "vulndb.assessed"
"""The vulnerability database build every stored image was last assessed against."""


def get_state(session: Session, key: str) -> str:
    """The value of ``key`` ("" when unset)."""
    row = session.get(StateRow, key)
    return row.value if row else ""


def set_state(session: Session, key: str, value: str) -> None:
    """Set ``key``."""
    row = session.get(StateRow, key)
    if row is None:
        session.add(StateRow(key=key, value=value))
    else:
        row.value = value
