"""Live detection: a live event source (process connector or Docker event stream) through the rule
engine, each alert handed to a sink (print, or batched POSTs to the server) as it is raised."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import httpx

from containerguard.errors import ConfigError
from containerguard.rules.compiler import CompiledRules
from containerguard.rules.engine import Engine
from containerguard.rules.model import Alert, Event

log = logging.getLogger("containerguard.watch")
LIVE_SOURCES = ("process", "docker")

AlertSink = Callable[[Alert], None]


class LiveDetector:
    """Runs one live source through compiled rules; ``start()``/``stop()``, or use as a context manager.

    The engine is called from the source's delivery thread only (the process source's two witnesses, connector
    and audit log, deliver through one lock), so it needs no lock.
    """

    def __init__(self, source: str, compiled: CompiledRules, sink: AlertSink, *, docker_host: str | None = None,
                 scan_existing: bool = True, rule_matching: str = "first", min_priority: str = "Debug",
                 audit_log: str | None = None) -> None:
        if source not in LIVE_SOURCES:
            raise ConfigError(f"--source must be one of {', '.join(LIVE_SOURCES)}")
        self.source = source
        self.engine = Engine(compiled, rule_matching=rule_matching, min_priority=min_priority)
        self.sink = sink
        self.docker_host = docker_host
        self.scan_existing = scan_existing
        self.audit_log = audit_log  # process source: also follow this audit log (None: the connector only)
        self._watcher: Any = None

    def _on_event(self, ev: Event) -> None:
        for alert in self.engine.process(ev):
            try:
                self.sink(alert)
            except Exception:  # a failing sink must not stop detection
                log.exception("alert sink failed")

    def start(self) -> None:
        """Start the source (raises SourceError when it cannot be read)."""
        if self.source == "process":
            from containerguard.sources.events.proc_connector import DockerContainers
            from containerguard.sources.events.process_live import LiveProcessSource

            self._watcher = LiveProcessSource(self._on_event, DockerContainers(self.docker_host),
                                              audit_log=self.audit_log, scan_existing=self.scan_existing)
        else:
            from containerguard.sources.events.docker_stream import DockerWatcher

            self._watcher = DockerWatcher(self._on_event, self.docker_host)
        self._watcher.start()

    @property
    def mode(self) -> str:
        """How events are read (netlink, poll, docker-events)."""
        stats = getattr(self._watcher, "stats", None)
        return str(getattr(stats, "mode", "")) or "docker-events"

    def stop(self) -> None:
        """Stop the source."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def __enter__(self) -> LiveDetector:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class ServerSink:
    """Posts alerts to ``POST /api/v1/alerts`` in batches from a thread; a full queue drops and counts."""

    def __init__(self, url: str, token: str, to_json: Callable[[Alert], dict[str, Any]], *,
                 size: int = 10_000, batch: int = 200, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError("--server must be an http(s) URL")
        self.endpoint = url.rstrip("/") + "/api/v1/alerts"
        self.to_json = to_json
        self.batch = batch
        self.sent = self.dropped = self.failed = 0
        self._client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})
        self._queue: queue.Queue[Alert | None] = queue.Queue(size)
        self._thread = threading.Thread(target=self._loop, name="cg-alert-post", daemon=True)
        self._thread.start()

    def __call__(self, alert: Alert) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            items = [first]
            while len(items) < self.batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._post(items)
                    return
                items.append(more)
            self._post(items)

    def _post(self, items: list[Alert]) -> None:
        try:
            response = self._client.post(self.endpoint, json={"alerts": [self.to_json(a) for a in items]})
        except httpx.HTTPError as exc:
            self.failed += len(items)
            log.error("posting alerts to %s failed: %s", self.endpoint, exc)
            return
        if response.status_code >= 300:
            self.failed += len(items)
            # keep going (and counting): a refused token or a server error must not end detection
            log.error("server answered %s to posted alerts: %s", response.status_code, response.text[:200])
        else:
            self.sent += len(items)

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._client.close()
