"""A bounded on-disk queue of snapshots waiting to be pushed: nothing is lost while the server is
unreachable, the oldest are dropped (logged) past the bound, and they leave in the order they came."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("containerguard.agent")

DEFAULT_LIMIT = 50
SUFFIX = ".json"


class Spool:
    """Files ``<ns-timestamp>-<seq>.json`` in ``folder``; their names sort in arrival order."""

    def __init__(self, folder: Path, limit: int = DEFAULT_LIMIT, clock: Callable[[], int] = time.time_ns) -> None:
        if limit < 1:
            raise ValueError("spool limit must be >= 1")
        self.folder = folder
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        # Snapshots name the host's engine and configuration: keep them private.
        os.chmod(folder, 0o700)

    def items(self) -> list[Path]:
        """Queued snapshots, oldest first (partial writes, still ``.tmp``, are not listed)."""
        return sorted(p for p in self.folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file())

    def __len__(self) -> int:
        return len(self.items())

    def put(self, payload: bytes) -> Path:
        """Queue ``payload``; past the bound, drop the oldest entries (with a log line each)."""
        with self._lock:
            queued = self.items()
            # Strictly after the newest queued item even if the clock stepped back: order survives restarts.
            last = int(queued[-1].name.split("-", 1)[0]) if queued and queued[-1].name[:20].isdigit() else 0
            name = f"{max(self.clock(), last + 1):020d}-{os.getpid()}"
            tmp = self.folder / f"{name}.tmp"
            final = self.folder / f"{name}{SUFFIX}"
            # Write then rename: a crash mid-write never leaves a truncated snapshot in the queue.
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
            queued = self.items()
            for old in queued[:max(0, len(queued) - self.limit)]:
                log.warning("spool full (%d snapshots): dropping the oldest, %s", self.limit, old.name)
                old.unlink(missing_ok=True)
            return final

    def read(self, item: Path) -> bytes:
        """The payload of a queued item."""
        return item.read_bytes()

    def remove(self, item: Path) -> None:
        """Drop a delivered (or undeliverable) item."""
        item.unlink(missing_ok=True)
