"""What every job needs: configuration, the store, the cipher, notifications, metrics, and the
functions that reach images (replaceable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from containerguard.models.sbom import Sbom
from containerguard.pipeline.inventory import inventory
from containerguard.sources.base import SourceOptions
from containerguard.store.db import Store
from containerguard.store.secrets import Cipher
from containerguard.vulndb.base import VulnStore
from containerguard.vulndb.store import SqliteVulnStore

from .config import ServerConfig
from .metrics import ServerMetrics
from .notify import Notifier

Inventory = Callable[[str, SourceOptions], Sbom]
"""Inventory a REF with options (default: :func:`containerguard.pipeline.inventory.inventory`)."""


def _inventory(ref: str, options: SourceOptions) -> Sbom:
    return inventory(ref, options)


@dataclass
class JobContext:
    """Shared by the API and the workers of one server."""

    config: ServerConfig
    store: Store
    cipher: Cipher
    notifier: Notifier
    metrics: ServerMetrics
    inventory: Inventory = field(default=_inventory)

    @classmethod
    def create(cls, config: ServerConfig, store: Store | None = None) -> JobContext:
        """A context for ``config``, opening (and upgrading) its store unless one is given."""
        opened = store or Store(config.url)
        return cls(config=config, store=opened, cipher=Cipher.for_settings(config.settings),
                   notifier=Notifier(config.notify_url), metrics=ServerMetrics(opened))

    def vulnerability_db(self) -> VulnStore:
        """A fresh read-only handle on the vulnerability database (each scan sees the newest build)."""
        return SqliteVulnStore.open(self.config.settings)
