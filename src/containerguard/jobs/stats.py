"""The daily posture record behind the dashboard's 30-day trends, kept whether or not anyone looks.

The overview also refreshes it when it renders; this job makes sure a day in which nobody opened the
dashboard still gets its own row (secure score, open findings by severity, alerts) instead of a
reconstruction from history afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .context import JobContext

INTERVAL = 600.0
"""Seconds between refreshes (the overview treats a row older than this as stale too)."""


def record_daily_stats(ctx: JobContext, now: datetime | None = None) -> None:
    """Write today's row (and reconstruct missing past days once) from the store's posture now."""
    # The counting lives with the dashboard's queries; the job only decides when it runs.
    from containerguard.web.queries.overview import posture
    from containerguard.web.queries.trends import refresh

    with ctx.store.session() as session:
        refresh(session, posture(session), now or datetime.now(UTC))
