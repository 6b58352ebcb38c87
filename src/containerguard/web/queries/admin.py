"""Registries and tokens for the admin tabs. Token queries select named columns only: a token's hash
never leaves the database through a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from containerguard.store.paging import Page, clamp, decode_int_cursor, page
from containerguard.store.registries import list_registries
from containerguard.store.tables import HostRow, ImageRow, RegistryRow, TokenRow

DASHBOARD_ROLES = ("admin", "reader", "agent")
"""Roles the tokens page creates (webhook secrets come from registering a registry; host-bound agent
tokens from registering a host)."""


@dataclass(frozen=True)
class RegistryLine:
    """A registry with the number of images stored from it."""

    row: RegistryRow
    images: int


@dataclass(frozen=True)
class TokenLine:
    """A token as the tokens page shows it: never its hash."""

    id: int
    name: str
    role: str
    created_at: datetime
    last_used: datetime | None
    registry: str
    """The registry a webhook secret belongs to ("" for other tokens)."""
    host: str
    """The host an agent token is bound to ("")."""


def registry_lines(session: Session) -> list[RegistryLine]:
    """Every registry with its image count (one grouped count)."""
    grouped = (select(ImageRow.registry_id, func.count()).where(ImageRow.registry_id.is_not(None))
               .group_by(ImageRow.registry_id))
    counts = {registry_id: int(n) for registry_id, n in session.execute(grouped)}
    return [RegistryLine(r, counts.get(r.id, 0)) for r in list_registries(session)]


def _token_query() -> Select[int, str, str, datetime, datetime | None, str, str]:
    # Outer joins: the registry and host names are None for most tokens (the type cannot say so).
    return (select(TokenRow.id, TokenRow.name, TokenRow.role, TokenRow.created_at, TokenRow.last_used,
                   RegistryRow.name, HostRow.name)
            .outerjoin(RegistryRow, RegistryRow.id == TokenRow.registry_id)
            .outerjoin(HostRow, HostRow.token_id == TokenRow.id))


def token_page(session: Session, cursor: str = "", limit: int = 100) -> Page[TokenLine]:
    """A page of tokens, oldest first."""
    limit = clamp(limit)
    query = _token_query()
    if cursor:
        query = query.where(TokenRow.id > decode_int_cursor(cursor))
    rows = session.execute(query.order_by(TokenRow.id).limit(limit + 1)).all()
    lines = [TokenLine(tid, name or "", role, created, used, registry or "", host or "")
             for tid, name, role, created, used, registry, host in rows]
    return page(lines, limit, lines[limit - 1].id if len(lines) > limit else None)


def token_line(session: Session, token_id: int) -> TokenLine | None:
    """One token, or None."""
    found = session.execute(_token_query().where(TokenRow.id == token_id)).first()
    if found is None:
        return None
    tid, name, role, created, used, registry, host = found
    return TokenLine(tid, name or "", role, created, used, registry or "", host or "")


def delete_token(session: Session, token_id: int) -> bool:
    """Remove a token (a host bound to it keeps its history, unbound); False when there is none."""
    row = session.get(TokenRow, token_id)
    if row is None:
        return False
    session.delete(row)
    return True
