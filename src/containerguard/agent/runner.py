"""The agent loop: collect a snapshot every interval and shortly after Docker events (debounced so a
burst of starts is one snapshot), spool it, push the spool; retry an unreachable server on its own
schedule without collecting more than the interval asks."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from containerguard.errors import SourceError
from containerguard.models.snapshot import HostSnapshot, snapshot_to_json

from .client import FlushResult, ServerClient, flush
from .spool import Spool

log = logging.getLogger("containerguard.agent")

WATCHED: Mapping[str, frozenset[str]] = {
    "container": frozenset({"start", "stop", "die", "destroy"}),
    "image": frozenset({"pull", "delete"}),
}
"""Docker events that change what the benchmark or the inventory sees."""


def relevant(event: Mapping[str, Any]) -> bool:
    """Whether a decoded Docker event should trigger a new snapshot."""
    kind = str(event.get("Type") or event.get("type") or "")
    # Older engines put the action in "status"; "exec_start: sh" style actions carry a suffix.
    action = str(event.get("Action") or event.get("status") or "").split(":", 1)[0]
    return action in WATCHED.get(kind, frozenset())


class Agent:
    """One host's agent: a collector, a spool and a server client."""

    def __init__(self, client: ServerClient, spool: Spool, collect: Callable[[], HostSnapshot],
                 interval: float, debounce: float = 5.0, retry: float = 30.0) -> None:
        self.client = client
        self.spool = spool
        self.collect = collect
        self.interval = interval
        self.debounce = debounce
        self.retry = retry
        self._cond = threading.Condition()
        self._event_due: float | None = None
        self._stopping = False

    def cycle(self, strict: bool = False) -> FlushResult:
        """Collect one snapshot into the spool, then flush. A failed collection is logged (raised
        when ``strict``) and the spool is flushed all the same."""
        try:
            snapshot = self.collect()
        except SourceError as exc:
            if strict:
                raise
            log.error("cannot collect a snapshot: %s", exc)
        else:
            self.spool.put(snapshot_to_json(snapshot).encode())
        return self.push()

    def push(self) -> FlushResult:
        """Flush the spool, logging what happened."""
        result = flush(self.spool, self.client)
        for sent in result.sent:
            log.info("pushed assessment %s: %s, %s failed controls", sent.get("id"), sent.get("health"),
                     sent.get("failed_scored_controls"))
        if result.error:
            log.warning("%s; %d snapshot(s) kept in %s", result.error, result.remaining, self.spool.folder)
        return result

    def trigger(self, reason: str) -> None:
        """Ask for a snapshot ``debounce`` seconds from the first of a burst of triggers."""
        with self._cond:
            if self._event_due is None:
                log.debug("snapshot triggered by %s", reason)
                self._event_due = time.monotonic() + self.debounce
                self._cond.notify_all()

    def stop(self) -> None:
        """Make :meth:`run` return at its next wake-up."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def run(self) -> None:
        """Loop until :meth:`stop`: collect on the interval and after events; retry the spool while the
        server is away."""
        next_collect = time.monotonic()
        next_retry: float | None = None
        while True:
            with self._cond:
                if self._stopping:
                    return
                event_due = self._event_due
            now = time.monotonic()
            if now >= next_collect or (event_due is not None and now >= event_due):
                with self._cond:
                    self._event_due = None
                result = self.cycle()
                next_collect = time.monotonic() + self.interval
                next_retry = time.monotonic() + self.retry if result.remaining else None
            elif next_retry is not None and now >= next_retry:
                result = self.push()
                next_retry = time.monotonic() + self.retry if result.remaining else None
            with self._cond:
                deadlines = [d for d in (next_collect, self._event_due, next_retry) if d is not None]
                wait = min(deadlines) - time.monotonic()
                if wait > 0 and not self._stopping:
                    self._cond.wait(timeout=wait)


class EventWatcher(threading.Thread):
    """Follows the engine's event stream (the docker SDK's ``events(decode=True)``) and triggers the
    agent on container start/stop/die/destroy and image pull/delete; reconnects with a backoff."""

    def __init__(self, agent: Agent, docker_url: str, backoff: float = 5.0) -> None:
        super().__init__(name="containerguard-docker-events", daemon=True)
        self.agent = agent
        self.docker_url = docker_url
        self.backoff = backoff
        self._stop = threading.Event()
        self._stream: Any = None

    def stop(self) -> None:
        """Close the stream (unblocks the reader) and end the thread."""
        self._stop.set()
        stream = self._stream
        if stream is not None:
            # Closing a dead stream may raise anything; we are leaving anyway.
            with contextlib.suppress(Exception):
                stream.close()

    def run(self) -> None:
        """Read events until stopped."""
        import docker

        filters = {"type": sorted(WATCHED), "event": sorted(set().union(*WATCHED.values()))}
        while not self._stop.is_set():
            try:
                client = docker.DockerClient(base_url=self.docker_url)
                client.api.trust_env = False
                self._stream = client.events(decode=True, filters=filters)
                for event in self._stream:
                    if self._stop.is_set():
                        break
                    if isinstance(event, dict) and relevant(event):
                        self.agent.trigger(f"{event.get('Type')} {event.get('Action')}")
            except Exception as exc:  # any SDK or transport failure: reconnect later
                if self._stop.is_set():
                    break
                log.warning("docker events from %s: %s; reconnecting in %.0fs", self.docker_url,
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__, self.backoff)
            self._stop.wait(self.backoff)


def run_once(agent: Agent) -> FlushResult:
    """One collection and push (``--once``)."""
    return agent.cycle(strict=True)

