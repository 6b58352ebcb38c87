"""Turning "this digest was pushed" into at most one scan (coalescing).

- the digest is already scanned in that repository: only the tag is added, no scan;
- a scan of it is queued or running: the tag joins that scan, no second scan;
- otherwise a scan is queued.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from containerguard.store.images import PENDING, add_tags, images_of
from containerguard.store.scans import active_scan, new_scan
from containerguard.store.tables import ScanRow

# Two webhook deliveries of the same push may race; inside one process this lock makes the
# check-then-insert atomic (across processes a rare duplicate scan is harmless: results upsert).
ENQUEUE_LOCK = threading.Lock()
"""Serialises queueing decisions with a scan's final write (one server process; see the docs)."""


@dataclass(frozen=True)
class PushTarget:
    """A manifest (or index) pushed to a registry."""

    registry_host: str
    repository: str
    digest: str
    tags: tuple[str, ...] = ()
    registry_id: int | None = None

    @property
    def ref(self) -> str:
        """The reference a scan pulls: by digest, never by a tag that may move."""
        return f"{self.registry_host}/{self.repository}@{self.digest}"


@dataclass
class Enqueued:
    """What :func:`request_scan` did."""

    scan: ScanRow | None = None
    """The scan that will cover the target (new or coalesced into); None when already scanned."""
    created: bool = False
    tagged: list[int] = field(default_factory=list)
    """Ids of scanned images that only received a tag."""


def request_scan(session: Session, target: PushTarget, trigger: str) -> Enqueued:
    """Queue a scan of ``target`` unless it is scanned or being scanned (see the module docstring)."""
    with ENQUEUE_LOCK:
        scanned = [row for row in images_of(session, target.registry_host, target.repository, target.digest)
                   if row.health != PENDING]
        if scanned:
            out = Enqueued()
            for row in scanned:
                if add_tags(row, target.tags):
                    out.tagged.append(row.id)
            session.commit()  # inside the lock: see ENQUEUE_LOCK
            return out
        active = active_scan(session, target.registry_host, target.repository, target.digest)
        if active is not None:
            merged = sorted(set(active.tags or []) | set(target.tags))
            if merged != sorted(active.tags or []):
                active.tags = merged
            session.commit()  # inside the lock, so the worker's final write sees the tag
            return Enqueued(scan=active)
        scan = new_scan(session, target.ref, registry_host=target.registry_host, repository=target.repository,
                        digest=target.digest, tags=target.tags, trigger=trigger, registry_id=target.registry_id)
        session.commit()  # visible to the workers before anyone is woken
        return Enqueued(scan=scan, created=True)
