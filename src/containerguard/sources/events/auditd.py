"""Process executions from the Linux audit log (``/var/log/audit/audit.log``): the ``process`` source's
second witness, for execs the connector loses and for replaying a host's history offline.

Format (kernel ``auditsc.c`` and auditd's log writer): one record per line::

    [node=NAME ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): key=value ...[\\x1dENRICHED_KEY="name" ...]

Records with the same stamp (``SECONDS.MILLIS:SERIAL``) form one event. A successful ``execve`` is:
``SYSCALL`` (arch, syscall, success, pid, ppid, auid/uid/euid/gid/egid, tty, comm, exe — the new program,
the record is written at syscall exit), ``EXECVE`` (``argc=N a0=… aN=…``; an argument too long for one
record is ``aI_len=LEN aI[0]=…`` continued as ``aI[1]=…`` in further EXECVE records), ``CWD``, ``PATH``
(``item=0``: the program as named to execve), ``PROCTITLE`` (argv, NUL-separated, at most 128 bytes; the
kernel's last record of a syscall event) and ``EOE`` (end of event, which auditd 3 does not write). Values
the kernel does not trust are quoted when they are printable without spaces or quotes, else hex.

An event is complete at its EOE, at the PROCTITLE after its SYSCALL, when a record of an event more than
``time_bound_ns`` (ausearch's 2 seconds) or ``serial_bound`` serials later arrives, when too many events are
pending, at the end of a replayed file, or — following a live log — when it has been idle ``idle`` seconds.
Records of other types are ignored; malformed lines are counted and skipped.

Each exec becomes the record ``process_jsonl`` reads, so rules see the fields the connector fills. Replayed,
the parent chain comes from the log's own earlier execs and user names from auditd's enriched fields;
followed live, a process still running is read from /proc (container through its cgroup and the Docker API,
parents, fds), else its parent's container, and names from the process's own /etc/passwd.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from containerguard.errors import SourceError
from containerguard.rules.model import Event

from . import process_jsonl
from .base import ReadStats
from .proc_connector import ContainerLookup, DockerContainers, Passwd, WatchStats, snapshot

log = logging.getLogger("containerguard.auditd")

DEFAULT_AUDIT_LOG = "/var/log/audit/audit.log"
MAX_LINE = 64 << 10  # the kernel's records are under 9 KiB (MAX_AUDIT_MESSAGE_LENGTH); enrichment adds little

# AUDIT_ARCH_* (the SYSCALL record's arch=) -> exec syscall numbers on that ABI
EXEC_SYSCALLS: dict[str, dict[int, str]] = {
    "c000003e": {59: "execve", 322: "execveat"},  # x86_64
    "40000003": {11: "execve", 358: "execveat"},  # i386
    "c00000b7": {221: "execve", 281: "execveat"},  # aarch64
    "40000028": {11: "execve", 387: "execveat"},  # arm
    "c00000f3": {221: "execve", 281: "execveat"},  # riscv64
    "c0000015": {11: "execve", 362: "execveat"},  # ppc64le
    "80000016": {11: "execve", 354: "execveat"},  # s390x
}
# numeric types as the kernel's printk and auditd's UNKNOWN[N] spell them
_TYPE_NUMBERS = {"1300": "SYSCALL", "1302": "PATH", "1307": "CWD", "1309": "EXECVE", "1320": "EOE",
                 "1327": "PROCTITLE"}
_WANTED = frozenset(_TYPE_NUMBERS.values())
_UNSET_ID = 4294967295  # (uid_t)-1: auid before login, and "unset" ids

_HEADER = re.compile(r"(?:node=(?P<node>\S+)\s+)?type=(?P<type>[A-Za-z_0-9]+(?:\[\d+\])?)\s+(?:msg=)?"
                     r"audit\((?P<sec>\d+)\.(?P<frac>\d+):(?P<serial>\d+)\):")
_PAIR = re.compile(r'([^\s=]+)=("[^"]*"|\S*)')
_ARG = re.compile(r"a(\d+)(?:\[(\d+)\])?")
_TTY = re.compile(r"(pts|ttyS|tty)(\d+)")


class Malformed(ValueError):
    """A line that claims to be an audit record and is not a well-formed one."""


@dataclass(slots=True)
class Record:
    """One parsed record of a type this reader uses."""

    type: str
    node: str
    time_ns: int
    serial: int
    fields: dict[str, str]
    enriched: dict[str, str] = field(default_factory=dict)
    args: dict[str, bytes] = field(default_factory=dict)  # EXECVE: "3" or "3[1]" -> decoded bytes


def _type_name(raw: str) -> str:
    if raw.isdigit():
        return _TYPE_NUMBERS.get(raw, raw)
    if raw.startswith("UNKNOWN["):
        return _TYPE_NUMBERS.get(raw[8:-1], raw)
    return raw


def _pairs(text: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _PAIR.finditer(text):
        key, value = m.group(1), m.group(2)
        if value[:1] == '"' and (len(value) < 2 or value[-1] != '"'):
            raise Malformed(f"{what}: unterminated quoted value for {key}")
        out[key] = value
    return out


def _arg_bytes(key: str, value: str) -> bytes:
    if value[:1] == '"':
        return value[1:-1].encode()
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Malformed(f"EXECVE: {key} is neither quoted nor hex") from None


def parse_record(line: str) -> Record | None:
    """The record on one log line; None for a well-formed record of a type not used here.

    Raises :class:`Malformed` for a line that is not an audit record or is cut short.
    """
    m = _HEADER.search(line)
    if m is None:
        raise Malformed("not an audit record (no type=… msg=audit(…):)")
    rtype = _type_name(m.group("type"))
    if rtype not in _WANTED:
        return None
    frac = m.group("frac")
    time_ns = int(m.group("sec")) * 1_000_000_000 + int((frac + "000000000")[:9])
    body, _, enriched = line[m.end():].rstrip("\r\n").partition("\x1d")
    rec = Record(rtype, m.group("node") or "", time_ns, int(m.group("serial")), _pairs(body, rtype))
    if enriched:
        rec.enriched = _pairs(enriched, rtype)
    if rtype == "EXECVE":
        for key, value in rec.fields.items():
            am = _ARG.fullmatch(key)
            if am:
                rec.args[am.group(1) if am.group(2) is None else f"{am.group(1)}[{am.group(2)}]"] = \
                    _arg_bytes(key, value)
        argc = rec.fields.get("argc")
        if argc is not None and not argc.isdigit():
            raise Malformed(f"EXECVE: argc={argc!r}")
    return rec


def untrusted(value: str | None) -> str | None:
    """A value the kernel logged as quoted text or hex (comm, exe, cwd, name, proctitle); None for unset."""
    if value is None or value in ("", "(null)", "?", "(none)"):
        return None
    if value[0] == '"':
        return value[1:-1]
    try:
        return bytes.fromhex(value).decode(errors="replace")
    except ValueError:
        return value


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _id(value: str | None) -> int | None:
    n = _int(value)
    return -1 if n == _UNSET_ID else n


def tty_nr(name: str | None) -> int | None:
    """The SYSCALL record's ``tty=pts0`` as /proc's ``tty_nr`` (what the connector reports); 0 for none."""
    if name is None or name == "(none)":
        return 0
    m = _TTY.fullmatch(name)
    if m is None:
        return None
    n = int(m.group(2))
    if m.group(1) == "pts":  # Unix98 pty slaves: majors 136-143
        major, minor = 136 + n // 256, n % 256
    else:
        major, minor = 4, n + (64 if m.group(1) == "ttyS" else 0)
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


def _enriched_name(value: str | None) -> str | None:
    name = untrusted(value)
    return None if name in (None, "unset") or (name and name.startswith("unknown(")) else name


@dataclass(slots=True)
class Pending:
    """The records of one event gathered so far."""

    node: str
    time_ns: int
    serial: int
    touched: float
    syscall: dict[str, str] | None = None
    enriched: dict[str, str] = field(default_factory=dict)
    argc: int | None = None
    args: dict[str, bytes] = field(default_factory=dict)
    cwd: str | None = None
    path0: str | None = None
    proctitle: str | None = None

    def add(self, rec: Record) -> None:
        """Fold one record in (a repeated record keeps the first, except EXECVE, which continues)."""
        if rec.type == "SYSCALL" and self.syscall is None:
            self.syscall, self.enriched = rec.fields, rec.enriched
        elif rec.type == "EXECVE":
            if self.argc is None and "argc" in rec.fields:
                self.argc = int(rec.fields["argc"])
            self.args.update(rec.args)
        elif rec.type == "CWD" and self.cwd is None:
            self.cwd = untrusted(rec.fields.get("cwd"))
        elif rec.type == "PATH" and rec.fields.get("item") == "0" and self.path0 is None:
            self.path0 = untrusted(rec.fields.get("name"))
        elif rec.type == "PROCTITLE" and self.proctitle is None:
            self.proctitle = rec.fields.get("proctitle")


Key = tuple[str, int, int]


class Assembler:
    """Groups records into events, by stamp, while other events' records interleave."""

    def __init__(self, *, time_bound_ns: int = 2_000_000_000, serial_bound: int = 256,
                 max_pending: int = 4096) -> None:
        self.time_bound_ns = time_bound_ns
        self.serial_bound = serial_bound
        self.max_pending = max_pending
        self.late = 0
        self._pending: OrderedDict[Key, Pending] = OrderedDict()
        self._done: set[Key] = set()
        self._done_order: deque[Key] = deque()

    def _finish(self, key: Key) -> Pending:
        p = self._pending.pop(key)
        self._done.add(key)
        self._done_order.append(key)
        if len(self._done_order) > 4096:  # remember recent events to drop their stragglers
            self._done.discard(self._done_order.popleft())
        return p

    def add(self, rec: Record, now: float = 0.0) -> list[Pending]:
        """Add a record; the events it completes (possibly its own)."""
        key = (rec.node, rec.time_ns, rec.serial)
        if rec.type == "EOE":
            return [self._finish(key)] if key in self._pending else []
        done: list[Pending] = []
        p = self._pending.get(key)
        if p is None:
            if key in self._done:
                self.late += 1
                return []
            # a new event: the ones it has left behind by the bounds are complete
            for old_key, old in list(self._pending.items()):
                if rec.time_ns - old.time_ns > self.time_bound_ns or (
                        old.node == rec.node and rec.serial - old.serial > self.serial_bound):
                    done.append(self._finish(old_key))
            p = self._pending[key] = Pending(rec.node, rec.time_ns, rec.serial, now)
            while len(self._pending) > self.max_pending:
                done.append(self._finish(next(iter(self._pending))))
        p.add(rec)
        p.touched = now
        if rec.type == "PROCTITLE" and p.syscall is not None:
            done.append(self._finish(key))
        return done

    def idle(self, now: float, idle: float) -> list[Pending]:
        """The events not added to for ``idle`` seconds (following a live log)."""
        return [self._finish(k) for k, p in list(self._pending.items()) if now - p.touched >= idle]

    def flush(self) -> list[Pending]:
        """Every pending event (the end of a replayed file)."""
        return [self._finish(k) for k in list(self._pending)]

    @property
    def pending(self) -> int:
        """How many events are still being gathered."""
        return len(self._pending)


def _execve_args(p: Pending) -> list[str]:
    argc = p.argc if p.argc is not None else 0
    if argc == 0 and p.args:
        argc = 1 + max(int(k.split("[", 1)[0]) for k in p.args)
    out: list[str] = []
    for i in range(min(argc, 1 << 16)):
        whole = p.args.get(str(i))
        if whole is None:
            parts: list[bytes] = []
            while (part := p.args.get(f"{i}[{len(parts)}]")) is not None:
                parts.append(part)
            if not parts:
                break  # the kernel stopped (a fault reading argv) or a record was lost
            whole = b"".join(parts)  # join bytes first: a chunk may end inside a UTF-8 character
        out.append(whole.decode(errors="replace"))
    return out


def _proctitle_args(value: str | None) -> list[str]:
    if not value:
        return []
    if value[0] == '"':
        return [value[1:-1]]
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return []
    return [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]


def exec_name(p: Pending) -> str | None:
    """``execve``/``execveat`` when the event is a program execution, else None."""
    sc = p.syscall or {}
    named = p.enriched.get("SYSCALL")
    if named in ("execve", "execveat"):
        return named
    number = _int(sc.get("syscall"))
    by_arch = EXEC_SYSCALLS.get(sc.get("arch", "").lower(), {})
    if number is not None and number in by_arch:
        return by_arch[number]
    # an EXECVE record is written for an exec on every architecture
    return "execve" if p.argc is not None or p.args else None


def exec_record(p: Pending) -> dict[str, Any] | None:
    """The ``process_jsonl`` record of a successful exec event; None for other events and failed execs.

    Raises :class:`Malformed` for an exec event whose SYSCALL record is missing (no pid).
    """
    name = exec_name(p)
    if name is None:
        return None
    sc = p.syscall
    if sc is None:
        raise Malformed("exec event without its SYSCALL record")
    if sc.get("success") == "no":
        return None
    pid = _int(sc.get("pid"))
    if pid is None:
        raise Malformed("SYSCALL record without a pid")
    args = _execve_args(p)
    title = _proctitle_args(p.proctitle)
    if p.argc is not None and len(args) < p.argc and len(title) > len(args):
        args = title  # part of the EXECVE records was lost; the title is the rest of what we know
    args = args or title
    cwd = p.cwd
    exepath = untrusted(sc.get("exe"))
    if exepath is None and p.path0:
        exepath = p.path0 if p.path0.startswith("/") or not cwd else os.path.normpath(os.path.join(cwd, p.path0))
    rec: dict[str, Any] = {
        "type": name, "time": p.time_ns, "pid": pid, "ppid": _int(sc.get("ppid")),
        "comm": untrusted(sc.get("comm")), "exepath": exepath, "args": args, "cwd": cwd,
        "tty": tty_nr(sc.get("tty")),
        # effective ids, as the connector reports them (Falco's user.uid / group.gid)
        "uid": _int(sc.get("euid", sc.get("uid"))), "gid": _int(sc.get("egid", sc.get("gid"))),
        "loginuid": _id(sc.get("auid")),
        "audit": {"serial": p.serial, "node": p.node or None, "uid": _id(sc.get("uid")), "ses": _id(sc.get("ses")),
                  "key": untrusted(sc.get("key"))},
    }
    # auditd's enriched log names the ids as the host resolved them when it wrote the record
    for key, ekeys in (("user", ("EUID", "UID")), ("group", ("EGID", "GID")), ("loginname", ("AUID",))):
        for ekey in ekeys:
            resolved = _enriched_name(p.enriched.get(ekey))
            if resolved:
                rec[key] = resolved
                break
    return rec


class ExecHistory:
    """pid -> the last program it exec'd, from the log itself: the parent chain of a replayed exec.

    Bounded (least recently exec'd forgotten first). A parent that never exec'd while the log was written
    (a fork of a long-running daemon) is not known here.
    """

    def __init__(self, limit: int = 65536, depth: int = 16) -> None:
        self.limit = limit
        self.depth = depth
        self._procs: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def ancestors(self, ppid: int | None) -> list[dict[str, Any]]:
        """Parent first, as far as the log knows."""
        chain: list[dict[str, Any]] = []
        seen: set[int] = set()
        while ppid is not None and ppid not in seen and len(chain) < self.depth:
            seen.add(ppid)
            brief = self._procs.get(ppid)
            if brief is None:
                break
            chain.append(brief)
            ppid = brief.get("ppid")
        return chain

    def remember(self, rec: dict[str, Any]) -> None:
        """Record an exec (the program ``pid`` now runs)."""
        pid = rec["pid"]
        self._procs.pop(pid, None)
        self._procs[pid] = {"pid": pid, "ppid": rec.get("ppid"), "comm": rec.get("comm"),
                            "exepath": rec.get("exepath"), "args": rec.get("args") or []}
        if len(self._procs) > self.limit:
            self._procs.popitem(last=False)


class AuditReader:
    """Lines in, exec records out: parse, assemble, build, attach the parent chain from the log."""

    def __init__(self, stats: ReadStats | None = None, name: str = "<audit>", *, assembler: Assembler | None = None,
                 history: ExecHistory | None = None) -> None:
        self.stats = stats if stats is not None else ReadStats()
        self.name = name
        self.assembler = assembler or Assembler()
        self.history = history or ExecHistory()
        self.lineno = 0
        self.failed = 0  # execs the kernel refused (success=no): not runs of a program

    def feed(self, line: bytes | str, now: float = 0.0) -> list[dict[str, Any]]:
        """One log line; the exec records it completes."""
        self.lineno += 1
        if len(line) > MAX_LINE:
            self.stats.skip(f"{self.name}:{self.lineno}", f"line longer than {MAX_LINE >> 10} KiB")
            return []
        text = line.decode(errors="replace") if isinstance(line, bytes) else line
        if not text.strip():
            return []
        try:
            rec = parse_record(text)
        except Malformed as exc:
            self.stats.skip(f"{self.name}:{self.lineno}", str(exc))
            return []
        if rec is None:
            return []
        late = self.assembler.late
        done = self.assembler.add(rec, now)
        if self.assembler.late > late:
            self.stats.skip(f"{self.name}:{self.lineno}", f"{rec.type} record after its event was complete")
        return self._build(done)

    def idle(self, now: float, idle: float) -> list[dict[str, Any]]:
        """Exec records of events idle for ``idle`` seconds."""
        return self._build(self.assembler.idle(now, idle))

    def flush(self) -> list[dict[str, Any]]:
        """Exec records of every event still pending."""
        return self._build(self.assembler.flush())

    def _build(self, done: list[Pending]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for p in done:
            try:
                rec = exec_record(p)
            except Malformed as exc:
                self.stats.skip(f"{self.name}:audit({p.time_ns // 1_000_000_000}:{p.serial})", str(exc))
                continue
            if rec is None:
                if p.syscall is not None and p.syscall.get("success") == "no" and exec_name(p):
                    self.failed += 1
                continue
            rec["ancestors"] = self.history.ancestors(rec.get("ppid"))
            self.history.remember(rec)
            out.append(rec)
        return out


def read_records(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[dict[str, Any]]:
    """Exec records (``process_jsonl`` format) from an audit log read once, start to end."""
    reader = AuditReader(stats, name)
    for line in lines:
        yield from reader.feed(line)
    yield from reader.flush()


def read_events(lines: Iterable[bytes | str], stats: ReadStats, name: str = "<input>") -> Iterator[Event]:
    """``process`` events from an audit log (offline replay: ``detect --source auditd``)."""
    for rec in read_records(lines, stats, name):
        ev = process_jsonl.event(rec)
        if ev is None:
            stats.skip(name, f"exec of pid {rec.get('pid')} without a name, path or arguments")
            continue
        stats.events += 1
        yield ev


class LogFollower:
    """``tail -F`` for one file: complete lines as they are appended, across rotation (a new file at the path:
    the old one is read to its end first) and truncation (read again from the start)."""

    def __init__(self, path: str, *, from_start: bool = False, chunk: int = 1 << 16) -> None:
        self.path = path
        self.chunk = chunk
        self.rotations = 0
        self._fd: int | None = None
        self._ino: tuple[int, int] | None = None
        self._pos = 0
        self._buf = b""
        self._open(from_start)

    def _open(self, from_start: bool) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise SourceError(f"cannot read audit log {self.path}: {exc.strerror}") from exc
        st = os.fstat(fd)
        self._fd, self._ino = fd, (st.st_dev, st.st_ino)
        self._pos = 0 if from_start else st.st_size
        os.lseek(fd, self._pos, os.SEEK_SET)
        self._buf = b""
        return True

    def _drain(self) -> bytes:
        assert self._fd is not None
        parts: list[bytes] = []
        while True:
            data = os.read(self._fd, self.chunk)
            if not data:
                break
            parts.append(data)
            self._pos += len(data)
            if len(parts) >= 64:  # at most a few MiB per call: the caller gets to the events sooner
                break
        return b"".join(parts)

    def _split(self, data: bytes, final: bool) -> list[bytes]:
        buf = self._buf + data
        lines = buf.split(b"\n")
        self._buf = b"" if final else lines.pop()
        if final and lines and lines[-1] == b"":
            lines.pop()
        if len(self._buf) > MAX_LINE:  # a line that never ends: hand it over to be counted, keep reading
            lines.append(self._buf)
            self._buf = b""
        return lines

    def read_lines(self) -> list[bytes]:
        """The complete lines appended since the last call (empty when none)."""
        if self._fd is None:
            if not self._open(from_start=True):
                return []
            self.rotations += 1
        data = self._drain()
        if data:
            return self._split(data, final=False)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []  # between a rotation's rename and the new file: keep the old one open
        if (st.st_dev, st.st_ino) != self._ino:
            rest = self._split(self._drain(), final=True)  # a partial last line was cut by the writer
            self.close()
            if self._open(from_start=True):
                self.rotations += 1
                rest += self._split(self._drain(), final=False)
            return rest
        if st.st_size < self._pos:  # truncated in place (copytruncate)
            assert self._fd is not None
            self._pos = 0
            self._buf = b""
            os.lseek(self._fd, 0, os.SEEK_SET)
            self.rotations += 1
            return self._split(self._drain(), final=False)
        return []

    @property
    def is_open(self) -> bool:
        """Whether a file is open (the path may not exist yet, or not again after a rotation)."""
        return self._fd is not None

    def close(self) -> None:
        """Close the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def resolve_audit_log(spec: str | None) -> str | None:
    """``--audit-log``: ``auto`` (the default path when it is readable, else none), ``off``/empty (none) or
    a path, which must be readable (:class:`SourceError` otherwise)."""
    if spec is None or spec.strip().lower() in ("", "off", "none", "no"):
        return None
    if spec == "auto":
        return DEFAULT_AUDIT_LOG if os.access(DEFAULT_AUDIT_LOG, os.R_OK) else None
    if not os.path.isfile(spec) or not os.access(spec, os.R_OK):
        raise SourceError(f"audit log {spec} is not a readable file")
    return spec


class LiveEnricher:
    """What only the running host knows, added to an exec record from the audit log: the container (through
    the process's cgroup, or its parent's once it has exited, and the Docker API), the parent chain and fds
    from /proc, and user names from the process's own /etc/passwd (the host's for host processes)."""

    def __init__(self, containers: ContainerLookup, proc_root: str = "/proc") -> None:
        self.containers = containers
        self.root = proc_root
        self.passwd = Passwd(proc_root)

    def __call__(self, rec: dict[str, Any]) -> dict[str, Any]:
        """Enrich ``rec`` in place and return it."""
        pid, ppid = rec["pid"], rec.get("ppid")
        snap = snapshot(pid, self.root)
        owner = pid  # whose root filesystem names the user: the process, or its parent once it is gone
        if snap is not None:
            # the same pid a moment later: same container and parents; its fds only if still the same program
            if snap.get("comm") == rec.get("comm"):
                for key in ("stdin_type", "stdout_type", "stderr_type", "vpid", "sid"):
                    rec[key] = snap.get(key)
            chain, container = snap.get("ancestors") or [], snap.get("container")
        else:
            parent = snapshot(ppid, self.root) if ppid else None
            chain, container = [], None
            if parent is not None:
                owner, container = parent["pid"], parent.get("container")
                chain = [{k: parent.get(k) for k in ("pid", "comm", "exepath", "args")},
                         *(parent.get("ancestors") or [])]
        if chain:
            rec["ancestors"] = chain
        key = "host"
        if isinstance(container, dict) and isinstance(container.get("id"), str):
            key = container["id"]
            rec["container"] = self.containers(key) or container
        for name_key, id_key, lookup in (("user", "uid", self._user), ("loginname", "loginuid", self._user),
                                         ("group", "gid", self._group)):
            value = rec.get(id_key)
            if isinstance(value, int) and value >= 0 and not rec.get(name_key):
                found = lookup(owner, value, key)
                if found:
                    rec[name_key] = found
        return rec

    def _user(self, pid: int, uid: int, key: str) -> str | None:
        name = self.passwd.name(pid, uid, key)
        if name is None and key == "host":
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                return None
        return name

    @staticmethod
    def _group(_pid: int, gid: int, key: str) -> str | None:
        if key != "host":
            return None
        try:
            return grp.getgrgid(gid).gr_name
        except KeyError:
            return None


class AuditWatcher:
    """Follows an audit log and calls ``on_event`` with a ``process`` Event for every exec written to it.

    A thread polls the file (``poll_interval``), assembles events, and completes the ones auditd left
    without an end marker once idle for ``idle`` seconds, so a lone exec is not held back.
    """

    def __init__(self, on_event: Callable[[Event], None], path: str = DEFAULT_AUDIT_LOG,
                 containers: ContainerLookup | None = None, *, from_start: bool = False, enrich: bool = True,
                 proc_root: str = "/proc", poll_interval: float = 0.1, idle: float = 0.3) -> None:
        self.on_event = on_event
        self.path = path
        self.from_start = from_start
        self.poll_interval = poll_interval
        self.idle_after = idle
        self.enricher = LiveEnricher(containers if containers is not None else DockerContainers(), proc_root) \
            if enrich else None
        self.read_stats = ReadStats()
        self.reader = AuditReader(self.read_stats, path)
        self.stats = WatchStats(mode="auditd")
        self._follower: LogFollower | None = None
        self._rotations = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the log (SourceError when it cannot be read) and start following it."""
        self._follower = LogFollower(self.path, from_start=self.from_start)
        if not self._follower.is_open:
            raise SourceError(f"audit log {self.path} does not exist")
        self._thread = threading.Thread(target=self._loop, name="cg-auditd", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop following."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._follower is not None:
            self._rotations = self._follower.rotations
            self._follower.close()
            self._follower = None

    def __enter__(self) -> AuditWatcher:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def rotations(self) -> int:
        """How often the log was rotated or truncated under us."""
        return self._follower.rotations if self._follower is not None else self._rotations

    def _loop(self) -> None:
        follower = self._follower
        assert follower is not None
        while not self._stop.is_set():
            try:
                lines = follower.read_lines()
            except OSError as exc:  # the disk went away under us: say so, keep trying
                if len(self.stats.errors) < 20:
                    self.stats.errors.append(f"read: {exc}")
                lines = []
            now = time.monotonic()
            for line in lines:
                for rec in self.reader.feed(line, now):
                    self._deliver(rec)
            for rec in self.reader.idle(now, self.idle_after):
                self._deliver(rec)
            if not lines:
                self._stop.wait(self.poll_interval)
        for rec in self.reader.flush():
            self._deliver(rec)

    def _deliver(self, rec: dict[str, Any]) -> None:
        if self.enricher is not None:
            try:
                self.enricher(rec)
            except Exception:  # /proc and Docker lookups are best effort: the exec still goes out
                log.debug("enriching pid %s failed", rec.get("pid"), exc_info=True)
        ev = process_jsonl.event(rec)
        if ev is None:
            return
        self.stats.events += 1
        try:
            self.on_event(ev)
        except Exception as exc:  # one bad consumer call must not end the watch
            log.exception("audit event consumer failed")
            if len(self.stats.errors) < 20:
                self.stats.errors.append(f"consumer: {type(exc).__name__}: {exc}")
