"""The server records the day's posture for the trends without anyone opening the dashboard."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from containerguard.config import Settings
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.jobs.dispatch import STATS, Job
from containerguard.jobs.inprocess import InProcessDispatcher
from containerguard.jobs.stats import record_daily_stats
from containerguard.store.db import migrate
from containerguard.store.images import ensure_image
from containerguard.store.tables import DailyStatsRow


def context(tmp_path: Path) -> JobContext:
    config = ServerConfig(settings=Settings(home=tmp_path), database_url=f"sqlite:///{tmp_path / 'cg.db'}")
    ctx = JobContext.create(config)
    migrate(ctx.store.engine)
    return ctx


def test_today_is_recorded_from_the_posture(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    with ctx.store.session() as s:
        row = ensure_image(s, "registry.example.com", "shop/web", "sha256:" + "a" * 64)
        row.health, row.high = "Unhealthy", 3
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    record_daily_stats(ctx, now)
    with ctx.store.session() as s:
        days = {r.day: r for r in s.scalars(select(DailyStatsRow))}
    today = days["2026-11-28"]
    assert (today.source, today.unhealthy, today.images_unhealthy, today.high) == ("live", 1, 1, 3)
    assert len(days) == 30  # the 29 days before are reconstructed once


def test_the_dispatcher_runs_the_job(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    dispatcher = InProcessDispatcher(ctx, workers=1)
    dispatcher.start()
    try:
        dispatcher.submit(Job(STATS))
        deadline = datetime.now(UTC).timestamp() + 10
        while datetime.now(UTC).timestamp() < deadline:
            with ctx.store.session() as s:
                if s.scalar(select(DailyStatsRow.day).where(DailyStatsRow.source == "live")):
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the stats job did not run")
    finally:
        dispatcher.stop()
