"""Registered registries: credentials encrypted on the way in, decrypted only for a scan or crawl."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from containerguard.errors import ConfigError

from .secrets import Cipher
from .tables import RegistryRow
from .tokens import create_token


@dataclass(frozen=True)
class RegistryAccess:
    """What a scan needs to reach a registry (password in clear, in memory only)."""

    id: int
    host: str
    insecure: bool
    username: str
    password: str


def registry_host(url: str) -> tuple[str, bool]:
    """``host[:port]`` of a registry URL, and whether it is plain http (``127.0.0.1:5000`` alone is
    accepted as https, like image references)."""
    text = url.strip()
    parsed = urlsplit(text if "://" in text else f"https://{text}")
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path.strip("/"):
        raise ConfigError(f"registry url must be http(s)://host[:port], got {url!r}")
    return parsed.netloc.lower(), parsed.scheme == "http"


def add_registry(session: Session, cipher: Cipher, name: str, url: str, insecure: bool = False,
                 username: str = "", password: str = "") -> tuple[RegistryRow, str]:
    """Register a registry; returns the row and its new webhook token (shown once)."""
    host, plain_http = registry_host(url)
    row = RegistryRow(name=name, url=url.strip(), host=host, insecure=insecure or plain_http,
                      username=username, password=cipher.encrypt(password))
    taken = ConfigError(f"a registry named {name!r} exists already")
    if session.scalars(select(RegistryRow.id).where(RegistryRow.name == name)).first() is not None:
        raise taken
    try:
        with session.begin_nested():  # a concurrent insert of the same name rolls back only this
            session.add(row)
    except IntegrityError as exc:
        raise taken from exc
    token, _ = create_token(session, "webhook", name=f"webhook for {name}", registry_id=row.id)
    return row, token


def list_registries(session: Session) -> list[RegistryRow]:
    """Every registry, oldest first."""
    return list(session.scalars(select(RegistryRow).order_by(RegistryRow.id)))


def get_registry(session: Session, registry_id: int) -> RegistryRow | None:
    """One registry by id."""
    return session.get(RegistryRow, registry_id)


def find_by_host(session: Session, host: str) -> RegistryRow | None:
    """The (first) registry serving ``host[:port]``."""
    return session.scalars(select(RegistryRow).where(RegistryRow.host == host.lower())
                           .order_by(RegistryRow.id)).first()


def delete_registry(session: Session, registry_id: int) -> bool:
    """Remove a registry (its webhook tokens go with it; its images stay, unlinked)."""
    row = session.get(RegistryRow, registry_id)
    if row is None:
        return False
    session.delete(row)
    return True


def access(row: RegistryRow, cipher: Cipher) -> RegistryAccess:
    """The decrypted access details of ``row``."""
    return RegistryAccess(row.id, row.host, row.insecure, row.username, cipher.decrypt(row.password))
