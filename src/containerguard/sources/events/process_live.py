"""The live ``process`` source: the kernel's process-events connector and, when one is readable, the audit
log, merged so that one exec raises its alerts once.

The connector is fast and sees every exec, but a command that exits before /proc is read is lost; auditd
writes every exec it is told to audit, complete, a little later. Both witnesses go through one
:class:`ExecDeduper`: an exec one has reported is dropped when the other reports the same pid running the
same program within ``window`` seconds; whatever only one of them saw goes through.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from containerguard.rules.model import Event

from .auditd import AuditWatcher
from .proc_connector import ContainerLookup, DockerContainers, ProcessWatcher, WatchStats

CONNECTOR, AUDIT = "connector", "auditd"


def _same_program(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # comm is what both witnesses read from the task itself; the path can differ (a process still
    # running a deleted file, a path seen from another mount namespace), its basename rarely does
    if a.get("comm") and a.get("comm") == b.get("comm"):
        return True
    pa, pb = a.get("exepath"), b.get("exepath")
    return bool(pa and pb and os.path.basename(pa) == os.path.basename(pb))


class ExecDeduper:
    """Passes each exec to ``downstream`` once, whichever witness reports it first; thread-safe, and calls
    ``downstream`` under its lock, so a consumer fed by two sources still sees one event at a time."""

    def __init__(self, downstream: Callable[[Event], None], window: float = 5.0, limit: int = 65536) -> None:
        self.downstream = downstream
        self.window_ns = int(window * 1_000_000_000)
        self.limit = limit
        self.duplicates = 0
        self._lock = threading.Lock()
        self._seq = 0
        # pid -> reports not yet paired: (sequence, origin, event time, record)
        self._open: dict[int, list[tuple[int, str, int, dict[str, Any]]]] = {}
        self._order: deque[tuple[int, int, int]] = deque()  # (arrival ns, pid, sequence), to forget old reports

    def offer(self, ev: Event, origin: str) -> bool:
        """Report ``ev`` from ``origin``; True when it was passed on, False when it was a duplicate."""
        data = ev.data
        pid, at = data.get("pid"), int(data.get("time_ns") or 0)
        now = time.monotonic_ns()
        with self._lock:
            self._forget(now)
            if ev.cache.get("scan") or not isinstance(pid, int):
                self.downstream(ev)  # processes running at start are no execs to pair
                return True
            reports = self._open.setdefault(pid, [])
            for i, (_seq, other, when, rec) in enumerate(reports):
                if other != origin and abs(at - when) <= self.window_ns and _same_program(rec, data):
                    del reports[i]
                    self.duplicates += 1
                    return False
            self._seq += 1
            reports.append((self._seq, origin, at, data))
            self._order.append((now, pid, self._seq))
            self.downstream(ev)
            return True

    def witness(self, origin: str) -> Callable[[Event], None]:
        """The consumer to hand to one witness."""

        def report(ev: Event) -> None:
            self.offer(ev, origin)

        return report

    def _forget(self, now: int) -> None:
        horizon = now - 2 * self.window_ns
        while self._order and (self._order[0][0] < horizon or len(self._order) > self.limit):
            _, pid, seq = self._order.popleft()
            reports = self._open.get(pid)
            if reports is None:
                continue
            reports[:] = [r for r in reports if r[0] != seq]
            if not reports:
                del self._open[pid]


class LiveProcessSource:
    """Every exec on the host, once: the connector (:class:`ProcessWatcher`) plus, with ``audit_log``, an
    :class:`AuditWatcher` following that file. Same interface as ProcessWatcher (start/stop/stats)."""

    def __init__(self, on_event: Callable[[Event], None], containers: ContainerLookup | None = None, *,
                 audit_log: str | None = None, scan_existing: bool = True, proc_root: str = "/proc",
                 window: float = 5.0) -> None:
        containers = containers if containers is not None else DockerContainers()
        self.dedup = ExecDeduper(on_event, window)
        # alone, the connector needs no pairing: it reports straight to the consumer
        self.process = ProcessWatcher(self.dedup.witness(CONNECTOR) if audit_log else on_event, containers,
                                      scan_existing=scan_existing, proc_root=proc_root)
        self.audit = AuditWatcher(self.dedup.witness(AUDIT), audit_log, containers,
                                  proc_root=proc_root) if audit_log else None
        self.stats = WatchStats()

    def start(self) -> None:
        """Start both witnesses (the audit log first, so no exec falls between them)."""
        if self.audit is not None:
            self.audit.start()
        try:
            self.process.start()
        except BaseException:
            if self.audit is not None:
                self.audit.stop()
            raise
        self.stats.mode = self.process.stats.mode + ("+auditd" if self.audit is not None else "")
        self.stats.errors = self.process.stats.errors

    def stop(self) -> None:
        """Stop both."""
        self.process.stop()
        if self.audit is not None:
            self.audit.stop()
        self.stats.events = self.process.stats.events + (self.audit.stats.events if self.audit else 0) \
            - self.dedup.duplicates

    def __enter__(self) -> LiveProcessSource:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
