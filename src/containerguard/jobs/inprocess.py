"""The in-process dispatcher: scan worker threads fed from the ``scans`` table, and one maintenance
thread for re-assessments, catalog crawls and the periodic checks that trigger them.

The store is the queue: a scan is a row, submitting only wakes the workers, and a worker claims a
row with a conditional update. On start, scans a killed process left ``running`` are queued again,
so nothing queued or in flight is lost. Threads are enough: a scan is network I/O plus a child
process per layer for decompression.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from containerguard.errors import VulnDbError
from containerguard.store.registries import list_registries
from containerguard.store.scans import claim_next, requeue_running
from containerguard.store.state import VULNDB_ASSESSED, get_state, set_state

from .cluster_watch import ClusterWatcher
from .clusters import ClusterScheduler
from .context import JobContext
from .crawl import crawl_registry
from .dispatch import CRAWL, REASSESS, SCAN, STATS, Dispatcher, Job
from .reassess import ReassessReport, reassess_all, vulndb_fingerprint
from .stats import INTERVAL as STATS_INTERVAL
from .stats import record_daily_stats
from .tasks import run_scan

log = logging.getLogger("containerguard.jobs")
IDLE_POLL = 1.0
"""Seconds an idle worker waits before looking for due retries (submits wake it at once)."""


class InProcessDispatcher(Dispatcher):
    """Worker threads in this process."""

    def __init__(self, ctx: JobContext, workers: int | None = None) -> None:
        self.ctx = ctx
        self.workers = workers or ctx.config.workers
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._maintenance: queue.Queue[Job] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._last_fingerprint = ""
        self.last_reassess: ReassessReport | None = None
        self._reassess_lock = threading.Lock()

    # -- Dispatcher -------------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Scans: wake a worker (the row is already queued); other jobs: to the maintenance thread."""
        if job.kind == SCAN:
            with self._wake:
                self._wake.notify_all()
        elif job.kind in (REASSESS, CRAWL, STATS):
            self._maintenance.put(job)
        else:
            raise ValueError(f"unknown job kind {job.kind!r}")

    def start(self) -> None:
        """Resume interrupted scans, then start the threads."""
        with self.ctx.store.session() as session:
            resumed = requeue_running(session)
            self._last_fingerprint = get_state(session, VULNDB_ASSESSED)
        if resumed:
            log.warning("resuming %d scan(s) interrupted by the previous run", resumed)
        for n in range(self.workers):
            self._spawn(self._work, f"cg-scan-{n}")
        self._spawn(self._maintain, "cg-maintenance")
        self._spawn(self._schedule, "cg-scheduler")
        self._spawn(ClusterScheduler(self.ctx, self._stopping).run, "cg-clusters")  # Kubernetes posture
        self._spawn(ClusterWatcher(self.ctx, self._stopping).run, "cg-cluster-watch")  # ... and its changes

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every thread to stop and wait for them (a running scan finishes its attempt)."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        self._maintenance.put(Job("stop"))
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- threads ----------------------------------------------------------------------------------

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.ctx.store.sessions() as session:
                    scan = claim_next(session)
                    scan_id = scan.id if scan is not None else ""
            except Exception:  # the database is briefly away: keep the worker alive
                log.exception("claiming a scan failed")
                scan_id = ""
            if not scan_id:
                with self._wake:
                    self._wake.wait(IDLE_POLL)
                continue
            run_scan(self.ctx, scan_id)

    def _maintain(self) -> None:
        while not self._stopping.is_set():
            job = self._maintenance.get()
            try:
                if job.kind == REASSESS:
                    self.reassess()
                elif job.kind == CRAWL:
                    self._crawl(job.target)
                elif job.kind == STATS:
                    record_daily_stats(self.ctx)
            except Exception:
                log.exception("%s job failed", job.kind)

    def _schedule(self) -> None:
        config = self.ctx.config
        next_crawl = time.monotonic() + config.crawl_interval if config.crawl_interval > 0 else float("inf")
        next_stats = time.monotonic() + 5.0  # soon after start, then every STATS_INTERVAL
        while not self._stopping.wait(max(0.2, min(config.db_poll, 5.0))):
            fingerprint = vulndb_fingerprint(config.settings)
            if fingerprint and fingerprint != self._last_fingerprint:
                self._last_fingerprint = fingerprint  # queued once, however long the run takes
                self.submit(Job(REASSESS))
            if time.monotonic() >= next_crawl:
                next_crawl = time.monotonic() + config.crawl_interval
                self.submit(Job(CRAWL))
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + STATS_INTERVAL
                self.submit(Job(STATS))

    # -- jobs -------------------------------------------------------------------------------------

    def reassess(self) -> ReassessReport:
        """Re-assess every stored image against the database on disk now (also ``POST /reassess``)."""
        with self._reassess_lock:  # the API and the maintenance thread may both ask
            return self._reassess()

    def _reassess(self) -> ReassessReport:
        fingerprint = vulndb_fingerprint(self.ctx.config.settings)
        try:
            vulns = self.ctx.vulnerability_db()
        except VulnDbError as exc:
            log.warning("re-assessment skipped: %s", exc)
            return ReassessReport(errors=[str(exc)])
        try:
            with self.ctx.store.session() as session:
                report = reassess_all(session, vulns)
                set_state(session, VULNDB_ASSESSED, fingerprint)
        finally:
            close = getattr(vulns, "close", None)
            if callable(close):
                close()
        self._last_fingerprint = fingerprint
        self.ctx.metrics.reassessments.inc()
        for payload in report.notifications:
            self.ctx.notifier.notify(payload)
        self.last_reassess = report
        return report

    def _crawl(self, target: str) -> None:
        if target:
            crawl_registry(self.ctx, self, int(target))
            return
        with self.ctx.store.session() as session:
            ids = [row.id for row in list_registries(session)]
        for registry_id in ids:
            crawl_registry(self.ctx, self, registry_id)
