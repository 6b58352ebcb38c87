"""API tokens and webhook secrets: created once (the plain token is shown once), found by hash."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError

from .secrets import hash_token, new_token
from .tables import TokenRow, utcnow

ROLES = ("admin", "reader", "webhook", "agent")


def create_token(session: Session, role: str, name: str = "", registry_id: int | None = None) -> tuple[str, TokenRow]:
    """A new token of ``role``: the plain token (never stored) and its row."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    token = new_token()
    row = TokenRow(token_hash=hash_token(token), role=role, name=name, registry_id=registry_id)
    session.add(row)
    session.flush()
    return token, row


def find_token(session: Session, token: str) -> TokenRow | None:
    """The row of ``token``, its last use recorded; None for an unknown token."""
    row = session.scalars(select(TokenRow).where(TokenRow.token_hash == hash_token(token))).first()
    if row is not None:
        row.last_used = utcnow()
    return row


def count_tokens(session: Session, role: str | None = None) -> int:
    """How many tokens exist (of ``role``)."""
    query = select(func.count()).select_from(TokenRow)
    if role:
        query = query.where(TokenRow.role == role)
    return int(session.scalar(query) or 0)
