"""Live process executions from the kernel's process-events connector, without a kernel module.

A root process opens a ``NETLINK_CONNECTOR`` socket, joins the ``CN_IDX_PROC`` multicast group and sends
``PROC_CN_MCAST_LISTEN``; the kernel then reports every ``exec``/``exit`` (and fork, uid change …) as it
happens. An exec message carries only the pid, so the process is read from ``/proc/PID`` at once —
``cmdline``, ``exe``, ``status``, ``stat``, ``cgroup``, fds 0-2 — before a 1 ms command is gone, then
enriched off the hot path with its container (Docker API, cached per container id).

The record built is the one ``process_jsonl`` replays, so live and offline events read the same fields.
Without the connector (not root, or another kernel) a /proc poll finds new processes instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from containerguard.rules.model import Event

from . import process_jsonl

log = logging.getLogger("containerguard.proc")

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
NLMSG_DONE = 3
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
PROC_EVENT_FORK = 0x1
PROC_EVENT_EXEC = 0x2
PROC_EVENT_EXIT = 0x80000000

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_CN_MSG = struct.Struct("=IIIIHH")  # id.idx, id.val, seq, ack, len, flags
_PROC_EVENT = struct.Struct("=IIQ")  # what, cpu, timestamp_ns
_PIDS = struct.Struct("=II")  # exec: pid, tgid; exit: pid, tgid (then code, signal)
_MAX_ANCESTORS = 16
_MAX_CMDLINE = 64 << 10
_CONTAINER_ID = re.compile(r"(?:/docker/|docker-|/crio-|crio-|/cri-containerd-|containerd-)([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class ProcMessage:
    """One process event from the connector: what happened to which process."""

    what: int
    pid: int
    tgid: int


def listen_message(op: int = PROC_CN_MCAST_LISTEN) -> bytes:
    """The netlink datagram that subscribes (or, with ``PROC_CN_MCAST_IGNORE``, unsubscribes)."""
    payload = struct.pack("=I", op)
    cn = _CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(cn), NLMSG_DONE, 0, 0, os.getpid()) + cn


def parse_messages(buf: bytes) -> Iterator[ProcMessage]:
    """The exec/exit/fork events in one datagram (several netlink messages may share it)."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(buf):
        length, _type, _flags, _seq, _pid = _NLMSGHDR.unpack_from(buf, offset)
        if length < _NLMSGHDR.size or offset + length > len(buf):
            return
        body = offset + _NLMSGHDR.size
        event_at = body + _CN_MSG.size
        if event_at + _PROC_EVENT.size + _PIDS.size <= offset + length:
            idx, val = struct.unpack_from("=II", buf, body)
            if (idx, val) == (CN_IDX_PROC, CN_VAL_PROC):
                what, _cpu, _ts = _PROC_EVENT.unpack_from(buf, event_at)
                data_at = event_at + _PROC_EVENT.size
                if what == PROC_EVENT_FORK:
                    # fork data: parent pid/tgid, then child pid/tgid: report the child
                    if data_at + 16 <= offset + length:
                        pid, tgid = _PIDS.unpack_from(buf, data_at + 8)
                        yield ProcMessage(what, pid, tgid)
                else:
                    pid, tgid = _PIDS.unpack_from(buf, data_at)
                    yield ProcMessage(what, pid, tgid)
        offset += (length + 3) & ~3  # NLMSG_ALIGN


class ProcConnector:
    """The subscribed netlink socket. Needs root (CAP_NET_ADMIN) in the initial network namespace."""

    def __init__(self, rcvbuf: int = 8 << 20) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        try:
            # a burst of execs (a build, a shell loop) must not overflow the socket before we drain it
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE: root may exceed rmem_max
            self.sock.bind((0, CN_IDX_PROC))
            self.sock.send(listen_message(PROC_CN_MCAST_LISTEN))
        except OSError:
            self.sock.close()
            raise
        self.overruns = 0

    def read(self, timeout: float) -> list[ProcMessage]:
        """The events that arrive within ``timeout`` seconds (empty when none)."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return []
        out: list[ProcMessage] = []
        while True:
            try:
                buf = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return out
            except OSError as exc:
                if exc.errno == 105:  # ENOBUFS: the kernel dropped events; keep going, count it
                    self.overruns += 1
                    continue
                raise
            out.extend(parse_messages(buf))

    def close(self) -> None:
        """Unsubscribe and close."""
        with contextlib.suppress(OSError):
            self.sock.send(listen_message(PROC_CN_MCAST_IGNORE))
        self.sock.close()


def _read(path: str, limit: int = _MAX_CMDLINE) -> bytes | None:
    # os.open/os.read, not open(): no buffered file object, the read races the process's exit
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def _link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def container_id_of(cgroup: str) -> str | None:
    """The 64-hex container id named in ``/proc/PID/cgroup`` (``/docker/<id>``, ``docker-<id>.scope`` …)."""
    m = _CONTAINER_ID.search(cgroup)
    return m.group(1) if m else None


def _status(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _socket_family(proc: str, inode: str) -> str:
    for name, family in (("tcp", "ipv4"), ("udp", "ipv4"), ("tcp6", "ipv6"), ("udp6", "ipv6"), ("unix", "unix")):
        table = _read(f"{proc}/net/{name}", 4 << 20)
        if table and f" {inode} ".encode() in table:
            return family
    return "socket"


def fd_type(proc: str, fd: int) -> str | None:
    """What fd ``fd`` of a process is, in Falco's words: ipv4, ipv6, unix, pipe, file, tty …"""
    target = _link(f"{proc}/fd/{fd}")
    if target is None:
        return None
    if target.startswith("socket:["):
        return _socket_family(proc, target[8:-1])
    if target.startswith("pipe:["):
        return "pipe"
    if target.startswith(("/dev/pts/", "/dev/tty", "/dev/console")):
        return "tty"
    if target.startswith("anon_inode:"):
        return target[11:]
    return "file"


def _argv(raw: bytes | None) -> list[str]:
    """argv from /proc/PID/cmdline (NUL-separated; a process that rewrote it may drop the final NUL)."""
    if not raw:
        return []
    return [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]


def _brief(pid: int, root: str) -> dict[str, Any] | None:
    """What an ancestor contributes: pid, comm, exepath, argv."""
    proc = f"{root}/{pid}"
    comm = _read(f"{proc}/comm", 64)
    if comm is None:
        return None
    return {"pid": pid, "comm": comm.decode(errors="replace").rstrip("\n"), "exepath": _link(f"{proc}/exe"),
            "args": _argv(_read(f"{proc}/cmdline"))}


def _ppid_of(pid: int, root: str) -> int | None:
    stat = _read(f"{root}/{pid}/stat", 4096)
    if not stat:
        return None
    rest = stat[stat.rfind(b")") + 2:].split()
    return int(rest[1]) if len(rest) > 1 else None


def snapshot(pid: int, root: str = "/proc") -> dict[str, Any] | None:
    """A process record (``process_jsonl`` format, without the container's name/image) read from /proc now;
    None when the process is already gone."""
    proc = f"{root}/{pid}"
    # what vanishes first when the process exits (argv, exe) is read first
    raw = _read(f"{proc}/cmdline")
    exepath = _link(f"{proc}/exe")
    cgroup = (_read(f"{proc}/cgroup", 16384) or b"").decode(errors="replace")
    stat = _read(f"{proc}/stat", 4096)
    status_raw = _read(f"{proc}/status", 16384)
    if status_raw is None or stat is None:
        return None
    status = _status(status_raw.decode(errors="replace"))
    comm = (_read(f"{proc}/comm", 64) or status.get("Name", "").encode()).decode(errors="replace").rstrip("\n")
    rest = stat[stat.rfind(b")") + 2:].split()
    args = _argv(raw)
    uids = status.get("Uid", "").split()
    gids = status.get("Gid", "").split()
    nspid = status.get("NSpid", "").split()
    rec: dict[str, Any] = {
        "type": "execve", "time": time.time_ns(), "pid": pid, "comm": comm, "exepath": exepath, "args": args,
        "cwd": _link(f"{proc}/cwd"),
        "ppid": int(rest[1]) if len(rest) > 1 else None,
        "sid": int(rest[3]) if len(rest) > 3 else None,
        "tty": int(rest[4]) if len(rest) > 4 else None,
        "vpid": int(nspid[-1]) if nspid else pid,
        # effective ids, as Falco's user.uid/group.gid report
        "uid": int(uids[1]) if len(uids) > 1 else None,
        "gid": int(gids[1]) if len(gids) > 1 else None,
        "stdin_type": fd_type(proc, 0), "stdout_type": fd_type(proc, 1), "stderr_type": fd_type(proc, 2),
    }
    loginuid = _read(f"{proc}/loginuid", 32)
    if loginuid and loginuid.strip().lstrip(b"-").isdigit():
        value = int(loginuid)
        rec["loginuid"] = -1 if value == 4294967295 else value
    cid = container_id_of(cgroup)
    if cid:
        rec["container"] = {"id": cid}
    ancestors: list[dict[str, Any]] = []
    parent = rec["ppid"]
    while parent and len(ancestors) < _MAX_ANCESTORS:
        brief = _brief(parent, root)
        if brief is None:
            break
        ancestors.append(brief)
        parent = _ppid_of(parent, root)
    rec["ancestors"] = ancestors
    return rec


class Passwd:
    """uid -> user name from the process's own root filesystem (a container's /etc/passwd, not the host's)."""

    def __init__(self, root: str = "/proc") -> None:
        self.root = root
        self._cache: dict[str, dict[int, str]] = {}

    def name(self, pid: int, uid: int | None, key: str) -> str | None:
        """The name of ``uid`` for process ``pid``; ``key`` (container id or "host") scopes the cache."""
        if uid is None:
            return None
        table = self._cache.get(key)
        if table is None:
            table = {}
            # host processes share pid 1's root, which outlives any short command
            owner = 1 if key == "host" else pid
            text = _read(f"{self.root}/{owner}/root/etc/passwd", 1 << 20) or b""
            for line in text.decode(errors="replace").splitlines():
                parts = line.split(":")
                if len(parts) > 2 and parts[2].isdigit():
                    table.setdefault(int(parts[2]), parts[0])
            if text:
                self._cache[key] = table
        return table.get(uid)


ContainerLookup = Callable[[str], dict[str, Any] | None]


class DockerContainers:
    """Container id -> name, image, privileged flag and labels from the Docker API, cached per id
    (a miss is remembered briefly so a burst of execs in an unknown container costs one call)."""

    def __init__(self, base_url: str | None = None, miss_ttl: float = 5.0) -> None:
        self.base_url = base_url
        self.miss_ttl = miss_ttl
        self._client: Any = None
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def _api(self) -> Any:
        if self._client is None:
            import docker  # the SDK only where containers are looked up

            self._client = docker.APIClient(base_url=self.base_url) if self.base_url else docker.from_env().api
        return self._client

    def __call__(self, cid: str) -> dict[str, Any] | None:
        with self._lock:
            hit = self._cache.get(cid)
            if hit is not None and (hit[1] is not None or time.monotonic() - hit[0] < self.miss_ttl):
                return hit[1]
        info: dict[str, Any] | None
        try:
            ins = self._api().inspect_container(cid)
            config = ins.get("Config") or {}
            info = {"id": ins.get("Id") or cid, "name": str(ins.get("Name") or "").lstrip("/"),
                    "image": config.get("Image"), "image_id": ins.get("Image"),
                    "privileged": bool((ins.get("HostConfig") or {}).get("Privileged")),
                    "labels": config.get("Labels") or {}}
        except Exception as exc:  # docker.errors.*, connection refused: the event still goes out, unenriched
            log.debug("container %s not resolved: %s", cid[:12], exc)
            info = None
        with self._lock:
            self._cache[cid] = (time.monotonic(), info)
        return info

    def forget(self, cid: str) -> None:
        """Drop a cached answer (the container was removed)."""
        with self._lock:
            self._cache.pop(cid, None)


@dataclass(slots=True)
class WatchStats:
    """What the watcher saw: events delivered, execs whose process was gone before it was read."""

    events: int = 0
    mode: str = ""
    errors: list[str] = field(default_factory=list)


def _emit(out: BinaryIO, obj: dict[str, Any]) -> None:
    out.write(orjson.dumps(obj) + b"\n")
    out.flush()


def _prioritise() -> None:
    """Run the reader ahead of ordinary processes: woken by an exec, it must read /proc before a 1 ms
    command exits. It only blocks on recv and reads, so a low real-time priority cannot starve the host."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            os.nice(-10)


def reader_main(out: BinaryIO, root: str = "/proc", scan_existing: bool = True) -> int:
    """The reader process: subscribe, then write one JSON record per exec to ``out`` as it happens.

    It runs in a process of its own because the /proc reads race the process's exit: in a process
    shared with an API server or a test, waiting for the GIL alone loses half of the 1 ms commands.
    Lines: ``{"ready": …}`` once subscribed, then records; ``{"stats": …}`` now and then.
    """
    try:
        conn = ProcConnector()
    except OSError as exc:
        _emit(out, {"error": f"{exc.strerror or exc} (the process-events connector needs root)"})
        return 1
    _prioritise()
    parent = os.getppid()
    conn.sock.settimeout(0.5)
    execs = missed = 0
    try:
        _emit(out, {"ready": True})
        if scan_existing:
            for pid in sorted(int(n) for n in os.listdir(root) if n.isdigit()):
                rec = snapshot(pid, root)
                if rec is not None:
                    rec["scan"] = True
                    _emit(out, rec)
        while os.getppid() == parent:
            try:
                buf = conn.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as exc:
                if exc.errno == 105:  # ENOBUFS: the kernel dropped events
                    conn.overruns += 1
                    _emit(out, {"stats": {"execs": execs, "missed": missed, "overruns": conn.overruns}})
                    continue
                raise
            for msg in parse_messages(buf):
                if msg.what != PROC_EVENT_EXEC or msg.pid != msg.tgid:
                    continue
                execs += 1
                rec = snapshot(msg.pid, root)
                if rec is None:
                    missed += 1
                    continue
                _emit(out, rec)
    except (BrokenPipeError, KeyboardInterrupt):
        return 0
    finally:
        conn.close()
    return 0


class ProcessWatcher:
    """Calls ``on_event`` with a ``process`` Event for every exec on the host (and, with ``scan_existing``,
    once for every process already running at start, marked ``scan``).

    A child process (:func:`reader_main`) drains the connector and reads /proc at once; a thread here
    adds the container's details (Docker API, cached) and calls ``on_event``. Without the connector a
    thread polls /proc for new pids instead (it misses commands shorter than the poll interval).
    """

    def __init__(self, on_event: Callable[[Event], None], containers: ContainerLookup | None = None, *,
                 scan_existing: bool = True, proc_root: str = "/proc", poll_interval: float = 0.05) -> None:
        self.on_event = on_event
        self.containers = containers if containers is not None else DockerContainers()
        self.scan_existing = scan_existing
        self.root = proc_root
        self.poll_interval = poll_interval
        self.stats = WatchStats()
        self.reader_stats: dict[str, Any] = {}
        self.passwd = Passwd(proc_root)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start reading; returns once the reader is subscribed (and the initial scan, if any, is queued)."""
        child = subprocess.Popen(  # our own module, with this interpreter
            [sys.executable, "-m", "containerguard.sources.events.proc_connector", self.root,
             "scan" if self.scan_existing else "noscan"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert child.stdout is not None
        first = self._first_line(child, timeout)
        if first.get("ready"):
            self._child = child
            self.stats.mode = "netlink"
            self._thread = threading.Thread(target=self._child_loop, args=(child.stdout,), name="cg-proc", daemon=True)
        else:
            child.kill()
            child.wait()
            reason = first.get("error") or "the reader process did not start"
            log.warning("process-events connector unavailable (%s); polling /proc instead", reason)
            self.stats.errors.append(str(reason))
            self.stats.mode = "poll"
            self._thread = threading.Thread(target=self._poll_loop, name="cg-proc-poll", daemon=True)
        self._thread.start()

    @staticmethod
    def _first_line(child: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], timeout)
        if not ready:
            return {}
        try:
            first = orjson.loads(child.stdout.readline() or b"{}")
        except orjson.JSONDecodeError:
            return {}
        return first if isinstance(first, dict) else {}

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the reader and the thread."""
        self._stop.set()
        if self._child is not None:
            self._child.terminate()
            try:
                self._child.wait(timeout)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._child is not None and self._child.stdout is not None:
            self._child.stdout.close()
        self._child = None

    def __enter__(self) -> ProcessWatcher:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _child_loop(self, stream: BinaryIO) -> None:
        for line in stream:
            if self._stop.is_set():
                return
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "stats" in rec:
                self.reader_stats = rec["stats"]
            elif isinstance(rec, dict):
                self._deliver(rec)

    def _pids(self) -> set[int]:
        try:
            return {int(n) for n in os.listdir(self.root) if n.isdigit()}
        except OSError:
            return set()

    def _poll_loop(self) -> None:
        known = self._pids()
        if self.scan_existing:
            for pid in sorted(known):
                rec = snapshot(pid, self.root)
                if rec is not None:
                    self._deliver({**rec, "scan": True})
        while not self._stop.wait(self.poll_interval):
            now = self._pids()
            for pid in sorted(now - known):
                rec = snapshot(pid, self.root)
                if rec is not None:
                    self._deliver(rec)
            known = now

    def _deliver(self, rec: dict[str, Any]) -> None:
        container = rec.get("container")
        if isinstance(container, dict) and isinstance(container.get("id"), str):
            info = self.containers(container["id"])
            if info:
                rec["container"] = info
        key = container["id"] if isinstance(container, dict) else "host"
        uid = rec.get("uid")
        rec["user"] = self.passwd.name(rec["pid"], uid if isinstance(uid, int) else None, str(key))
        ev = process_jsonl.event(rec)
        if ev is None:
            return
        if rec.get("scan"):
            ev.cache["scan"] = True
        self.stats.events += 1
        try:
            self.on_event(ev)
        except Exception as exc:  # one bad consumer call must not end the watch
            log.exception("process event consumer failed")
            if len(self.stats.errors) < 20:
                self.stats.errors.append(f"consumer: {type(exc).__name__}: {exc}")


def main(argv: list[str]) -> int:
    """``python -m containerguard.sources.events.proc_connector [PROC_ROOT] [scan|noscan]``."""
    root = argv[0] if argv else "/proc"
    scan = (argv[1] if len(argv) > 1 else "scan") == "scan"
    return reader_main(sys.stdout.buffer, root, scan)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
