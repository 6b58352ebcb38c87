"""Live Docker Engine events: the ``/events`` stream as ``docker`` source events.

Container ``create``/``start`` messages get the container's inspect object attached (``inspect``: the
privileged flag, mounts, namespaces the rules read) at once, while the container exists; exec messages
already carry their command in the action (``exec_start: sh -c id``); image pulls pass as they come.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from containerguard.errors import SourceError
from containerguard.rules.model import Event

from . import docker_jsonl

log = logging.getLogger("containerguard.docker_events")

INSPECTED = ("create", "start")
TYPES = ("container", "image")


def _api(base_url: str | None) -> Any:
    import docker  # the SDK only where the Engine is talked to

    try:
        return docker.APIClient(base_url=base_url) if base_url else docker.from_env().api
    except docker.errors.DockerException as exc:
        raise SourceError(f"cannot reach the Docker Engine: {exc}") from exc


def enrich(api: Any, msg: dict[str, Any]) -> dict[str, Any]:
    """``msg`` with ``inspect`` attached for container create/start (unchanged when inspect fails)."""
    action = str(msg.get("Action") or msg.get("status") or "")
    if msg.get("Type", "container") != "container" or action not in INSPECTED:
        return msg
    cid = (msg.get("Actor") or {}).get("ID") or msg.get("id")
    if not cid:
        return msg
    try:
        return {**msg, "inspect": api.inspect_container(cid)}
    except Exception as exc:  # removed already, or the Engine hiccuped: the event still goes out
        log.debug("inspect %s failed: %s", str(cid)[:12], exc)
        return msg


def stream(base_url: str | None = None, stop: threading.Event | None = None) -> Iterator[Event]:
    """Events from the Engine as they happen, until ``stop`` is set (checked whenever a message arrives)."""
    api = _api(base_url)
    try:
        messages = api.events(decode=True, filters={"type": list(TYPES)})
    except Exception as exc:
        raise SourceError(f"cannot read Docker events: {exc}") from exc
    try:
        for msg in messages:
            if stop is not None and stop.is_set():
                return
            if not isinstance(msg, dict):
                continue
            ev = docker_jsonl.event(enrich(api, msg))
            if ev is not None:
                yield ev
    finally:
        close = getattr(messages, "close", None)
        if callable(close):
            close()


class DockerWatcher:
    """Calls ``on_event`` for every Docker event, from a thread (``start``/``stop``)."""

    def __init__(self, on_event: Callable[[Event], None], base_url: str | None = None) -> None:
        self.on_event = on_event
        self.base_url = base_url
        self.events = 0
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._messages: Any = None

    def start(self) -> None:
        """Subscribe and start the thread (raises SourceError when the Engine does not answer)."""
        api = _api(self.base_url)
        try:
            self._messages = api.events(decode=True, filters={"type": list(TYPES)})
        except Exception as exc:
            raise SourceError(f"cannot read Docker events: {exc}") from exc
        self._thread = threading.Thread(target=self._loop, args=(api,), name="cg-docker-events", daemon=True)
        self._thread.start()

    def _loop(self, api: Any) -> None:
        try:
            for msg in self._messages:
                if self._stop.is_set():
                    return
                ev = docker_jsonl.event(enrich(api, msg)) if isinstance(msg, dict) else None
                if ev is None:
                    continue
                self.events += 1
                try:
                    self.on_event(ev)
                except Exception:  # one bad consumer call must not end the watch
                    log.exception("docker event consumer failed")
        except Exception as exc:  # the stream closing on stop() lands here too
            if not self._stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"
                log.error("docker event stream ended: %s", exc)

    def stop(self, timeout: float = 5.0) -> None:
        """Close the stream and join the thread."""
        self._stop.set()
        close = getattr(self._messages, "close", None)
        if callable(close):
            close()
        if self._thread is not None:
            self._thread.join(timeout)
