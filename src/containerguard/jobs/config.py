"""Server settings read from the environment (on top of the data home's :class:`Settings`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from containerguard.config import Settings, load_settings
from containerguard.errors import ConfigError
from containerguard.store.db import database_url


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class ServerConfig:
    """How the server runs: where, with how many workers, how it retries, crawls and notifies."""

    settings: Settings = field(default_factory=load_settings)
    database_url: str = ""
    """Empty: from ``CONTAINERGUARD_DATABASE_URL`` or the embedded SQLite file (see :mod:`store.db`)."""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 4
    max_attempts: int = 5
    """Attempts a scan gets when its source fails (registry down) before it is failed for good."""
    retry_seconds: float = 5.0
    """Backoff before the first retry; doubled for each further one, capped at ``retry_max``."""
    retry_max: float = 600.0
    crawl_interval: float = 3600.0
    """Seconds between catalog crawls of every registry (0: only on registration)."""
    db_poll: float = 5.0
    """Seconds between checks of the vulnerability DB for a new build (re-assessment trigger)."""
    notify_url: str = ""
    public_url: str = ""
    """Base URL registries use to reach the server (default: the URL the registering client used)."""

    @property
    def url(self) -> str:
        """The store's database URL."""
        return self.database_url or database_url(self.settings)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.retry_max, self.retry_seconds * (2 ** max(0, attempt - 1))))


def load_server_config(host: str = "127.0.0.1", port: int = 8080) -> ServerConfig:
    """The configuration from the environment."""
    return ServerConfig(
        settings=load_settings(), host=host, port=port,
        workers=max(1, int(_float("CONTAINERGUARD_WORKERS", 4))),
        max_attempts=max(1, int(_float("CONTAINERGUARD_SCAN_ATTEMPTS", 5))),
        retry_seconds=_float("CONTAINERGUARD_RETRY_SECONDS", 5.0),
        retry_max=_float("CONTAINERGUARD_RETRY_MAX", 600.0),
        crawl_interval=_float("CONTAINERGUARD_CRAWL_INTERVAL", 3600.0),
        db_poll=_float("CONTAINERGUARD_DB_POLL", 5.0),
        notify_url=os.environ.get("CONTAINERGUARD_NOTIFY_URL", "").strip(),
        public_url=os.environ.get("CONTAINERGUARD_PUBLIC_URL", "").strip().rstrip("/"))
