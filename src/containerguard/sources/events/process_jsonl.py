"""Offline replay of process executions: one JSON object per line, the record the host agent produces.

Format (every key optional except ``pid`` and one of ``comm``/``exepath``/``args``)::

    {"time": "2024-05-01T10:00:00.123456789Z",   # or epoch ns/s; default 0
     "type": "execve",                           # evt.type
     "pid": 4242, "ppid": 4200, "vpid": 12, "sid": 4200, "tty": 34816,
     "comm": "cat",                              # proc.name (default: basename of exepath / argv[0], 15 chars)
     "exe": "cat", "exepath": "/usr/bin/cat",    # argv[0] as invoked; resolved executable path
     "args": ["cat", "/etc/shadow"],             # full argv
     "cwd": "/root", "start_time": "...",        # process start (proc.duration)
     "stdin_type": "ipv4", "stdout_type": "ipv4", # what fds 0/1/2 are (ipv4, ipv6, unix, pipe, file, tty)
     "uid": 0, "user": "root", "gid": 0, "group": "root", "loginuid": -1, "loginname": "",
     "ancestors": [{"pid": 4200, "comm": "bash", "exepath": "/usr/bin/bash", "args": ["bash"]}, ...],
     "container": {"id": "<64 hex>", "name": "web", "image": "nginx:1.25", "privileged": false,
                   "labels": {"io.kubernetes.pod.namespace": "prod"}}}   # null/absent: on the host

``ancestors`` lists the parent first, then its parent, and so on (``proc.pname``, ``proc.aname[N]``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import count
from typing import Any

from containerguard.rules.fields.common import parse_time
from containerguard.rules.model import Event

from .base import ReadStats, json_lines

SOURCE = "process"
_NUMBERS = count(1)
_MAX_ANCESTORS = 64
_MAX_ARGS = 4096


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _proc(rec: dict[str, Any]) -> dict[str, Any]:
    args = rec.get("args")
    args = [str(a) for a in args[:_MAX_ARGS]] if isinstance(args, list) else []
    exepath = rec.get("exepath") if isinstance(rec.get("exepath"), str) else None
    exe = rec.get("exe") if isinstance(rec.get("exe"), str) else (args[0] if args else exepath)
    comm = rec.get("comm")
    if not isinstance(comm, str):
        base = exepath or exe
        comm = os.path.basename(base)[:15] if base else None
    return {"pid": _int(rec.get("pid")), "comm": comm, "exe": exe, "exepath": exepath,
            "args": args or ([exe] if exe else [])}


def normalize(rec: Any) -> dict[str, Any] | None:
    """A replay/agent record -> the dict the process fields read; None when it is not a process record."""
    if not isinstance(rec, dict) or _int(rec.get("pid")) is None:
        return None
    out = _proc(rec)
    if out["comm"] is None:
        return None
    out["type"] = str(rec.get("type") or "execve")
    out["time_ns"] = parse_time(rec.get("time")) or 0
    out["start_ns"] = parse_time(rec.get("start_time"))
    for key in ("ppid", "vpid", "sid", "tty", "uid", "gid", "loginuid"):
        out[key] = _int(rec.get(key))
    for key in ("cwd", "user", "group", "loginname", "stdin_type", "stdout_type", "stderr_type"):
        out[key] = rec.get(key) if isinstance(rec.get(key), str) else None
    chain = rec.get("ancestors")
    out["ancestors"] = [_proc(a) for a in chain[:_MAX_ANCESTORS] if isinstance(a, dict)] \
        if isinstance(chain, list) else []
    if out["ppid"] is None and out["ancestors"]:
        out["ppid"] = out["ancestors"][0]["pid"]
    container = rec.get("container")
    if isinstance(container, dict) and container.get("id"):
        labels = container.get("labels")
        out["container"] = {
            "id": str(container["id"])[:12], "name": str(container.get("name") or "").lstrip("/") or None,
            "image": container.get("image") if isinstance(container.get("image"), str) else None,
            "image_id": container.get("image_id") if isinstance(container.get("image_id"), str) else None,
            "privileged": container.get("privileged") if isinstance(container.get("privileged"), bool) else None,
            "labels": labels if isinstance(labels, dict) else {},
        }
    else:
        out["container"] = None
    return out


def event(rec: Any) -> Event | None:
    """One record -> an Event (None when malformed)."""
    data = normalize(rec)
    return None if data is None else Event(SOURCE, data, next(_NUMBERS))


def read_events(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[Event]:
    """Events from a JSONL replay file."""
    for lineno, obj in json_lines(lines, stats, name):
        ev = event(obj)
        if ev is None:
            stats.skip(f"{name}:{lineno}", "not a process record (needs pid and a name, exepath or args)")
            continue
        stats.events += 1
        yield ev
