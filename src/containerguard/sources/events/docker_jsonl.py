"""Offline replay of Docker Engine events: one ``/events`` message per line (``docker events --format
'{{json .}}'`` writes exactly this), optionally with ``"inspect"``: the ``docker container inspect`` object
of the container (the live agent attaches it to create/start events; it carries the privileged flag and
mounts). Example::

    {"Type": "container", "Action": "start", "Actor": {"ID": "<64 hex>", "Attributes": {"image": "nginx",
     "name": "web"}}, "time": 1714557600, "timeNano": 1714557600123456789,
     "inspect": {"HostConfig": {"Privileged": true}, "Mounts": [{"Source": "/var/run/docker.sock",
                 "Destination": "/var/run/docker.sock", "RW": true}]}}
    {"Type": "container", "Action": "exec_start: sh -c id", "Actor": {"ID": "<64 hex>", ...}, ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import count
from typing import Any

from containerguard.rules.model import Event

from .base import ReadStats, json_lines

SOURCE = "docker"
_NUMBERS = count(1)


def event(msg: Any) -> Event | None:
    """One Docker event message -> an Event (None when it is not one)."""
    if not isinstance(msg, dict):
        return None
    action = msg.get("Action") or msg.get("status")
    if not isinstance(action, str) or not action:
        return None
    actor = msg.get("Actor")
    if actor is not None and not isinstance(actor, dict):
        return None
    return Event(SOURCE, msg, next(_NUMBERS))


def read_events(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[Event]:
    """Events from a JSONL replay file."""
    for lineno, obj in json_lines(lines, stats, name):
        ev = event(obj)
        if ev is None:
            stats.skip(f"{name}:{lineno}", "not a Docker event (needs Action)")
            continue
        stats.events += 1
        yield ev
