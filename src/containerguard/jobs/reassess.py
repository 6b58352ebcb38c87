"""Re-assessment: after the vulnerability database changes, every stored image is re-matched from
its stored SBOM (no pull, the registry may be gone); findings open and close, health changes, and
an event records what changed for which image."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from containerguard.config import Settings
from containerguard.errors import SbomError
from containerguard.store.images import all_assessed
from containerguard.store.tables import ImageRow
from containerguard.vulndb.base import VulnStore
from containerguard.vulndb.store import db_path

from .assess import assess, record
from .tasks import load_sbom

log = logging.getLogger("containerguard.jobs")


@dataclass
class ReassessReport:
    """What a re-assessment did."""

    images: int = 0
    changed: int = 0
    opened: int = 0
    closed: int = 0
    health_changes: int = 0
    errors: list[str] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)


def vulndb_fingerprint(settings: Settings) -> str:
    """Identifies the database build on disk ("" when there is none). An import swaps a new file in
    (``os.replace``), so the inode changes with every build; mtime and size cover copies."""
    try:
        st = os.stat(db_path(settings))
    except OSError:
        return ""
    return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


def reassess_image(session: Session, image: ImageRow, vulns: VulnStore, report: ReassessReport) -> None:
    """Re-match one image's stored SBOM and record the difference."""
    try:
        sbom = load_sbom(image)
    except (SbomError, ValueError, KeyError) as exc:
        report.errors.append(f"image {image.id}: stored SBOM unreadable: {exc}")
        return
    recorded = record(session, image, assess(sbom, vulns), "reassess")
    report.images += 1
    if recorded.diff.changed:
        report.changed += 1
        report.opened += len(recorded.diff.opened)
        report.closed += len(recorded.diff.closed)
    if recorded.old_health != recorded.new_health:
        report.health_changes += 1
    report.notifications.extend(recorded.notifications)


def reassess_all(session: Session, vulns: VulnStore) -> ReassessReport:
    """Re-assess every image with a stored SBOM, in ``session`` (the caller commits, then sends
    ``report.notifications``)."""
    report = ReassessReport()
    for image_id in list(all_assessed(session)):
        image = session.get(ImageRow, image_id)
        if image is not None:
            reassess_image(session, image, vulns, report)
    log.info("re-assessed %d image(s): %d changed (%d new, %d closed findings), %d health change(s)",
             report.images, report.changed, report.opened, report.closed, report.health_changes)
    return report
