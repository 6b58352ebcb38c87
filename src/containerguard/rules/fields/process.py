"""``process`` source (Falco's ``syscall`` source, for process executions): ``proc.*``, ``user.*``,
``group.*``, ``container.*``, ``k8s.ns.name``/``k8s.pod.name`` and ``evt.type`` — the syscall field names a
process-exec event can fill.

An event's ``data`` is a normalized exec record (see ``sources/events/process_jsonl.py``): ``pid``, ``ppid``,
``comm``, ``exe``, ``exepath``, ``args`` (argv), ``cwd``, ``tty``, ``uid``/``user``, ``gid``/``group``,
``loginuid``, ``start_ns``, ``time_ns``, ``ancestors`` (parent first) and ``container`` (None on the host).
Other Falco syscall fields (``fd.*``, ``evt.arg.*``, ``thread.cap_*`` …) are known but never filled:
rules that need them load inactive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from containerguard.registry import register

from ..model import Event
from . import Arg, FieldDef, FieldSource, Getter, Value, simple
from .common import generic_fields

# Field classes of Falco's syscall source (libsinsp); a name under one we do not define is "known, unfilled".
SYSCALL_PREFIXES = (
    "evt.", "proc.", "thread.", "user.", "group.", "container.", "fd.", "fdlist.", "fs.", "k8s.", "mesos.",
    "span.", "syslog.", "evtin.", "k8smeta.", "proc.exe_ino", "ka.", "jevt.",
)


def _time(ev: Event) -> int:
    return int(ev.data.get("time_ns") or 0)


def _key(key: str) -> Getter:
    def get(ev: Event) -> Value:
        v = ev.data.get(key)
        return v if v is None or isinstance(v, str | int) else str(v)

    return get


def _cmdline(rec: dict[str, Any]) -> str | None:
    name = rec.get("comm")
    if name is None:
        return None
    args = rec.get("args") or []
    return " ".join([name, *args[1:]])


def _exe(rec: dict[str, Any]) -> str | None:
    exe = rec.get("exe")
    if exe is None:
        args = rec.get("args") or []
        exe = args[0] if args else None
    return exe if isinstance(exe, str) else None


def _rec_fields() -> list[tuple[str, str, str, Callable[[dict[str, Any]], Value]]]:
    """(suffix, type, desc, extractor) for what a process record and each ancestor carry."""
    return [
        ("name", "string", "process name (comm)", lambda r: r.get("comm")),
        ("pid", "int64", "process id", lambda r: r.get("pid")),
        ("exe", "string", "first command-line argument (argv[0])", _exe),
        ("exepath", "string", "full executable path", lambda r: r.get("exepath")),
        ("cmdline", "string", "process name and arguments", _cmdline),
    ]


def _ancestor(index: int, extract: Callable[[dict[str, Any]], Value]) -> Getter:
    def get(ev: Event) -> Value:
        if index == 0:
            return extract(ev.data)
        chain = ev.data.get("ancestors") or ()
        return extract(chain[index - 1]) if index <= len(chain) else None

    return get


def _ancestors_any(extract: Callable[[dict[str, Any]], Value]) -> Getter:
    def get(ev: Event) -> Value:
        values = [extract(a) for a in ev.data.get("ancestors") or ()]
        return tuple(str(v) for v in values if v is not None)

    return get


def _container(key: str, host: Value = None) -> Getter:
    def get(ev: Event) -> Value:
        c = ev.data.get("container")
        if not c:
            return host
        v = c.get(key)
        return v if v is None or isinstance(v, str | bool | int) else str(v)

    return get


def _image_part(part: str) -> Getter:
    def get(ev: Event) -> Value:
        c = ev.data.get("container")
        image = c.get("image") if c else None
        if not isinstance(image, str):
            return None
        return split_image(image)[0 if part == "repository" else 1]

    return get


def split_image(image: str) -> tuple[str, str | None]:
    """``repo/name:tag@digest`` -> (``repo/name``, ``tag``), keeping a registry port in the repository."""
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, None


def _label(label: str) -> Getter:
    def get(ev: Event) -> Value:
        c = ev.data.get("container")
        labels = (c or {}).get("labels") or {}
        v = labels.get(label)
        return v if isinstance(v, str) else None

    return get


def _duration(ev: Event) -> Value:
    start = ev.data.get("start_ns")
    return None if not start else max(0, _time(ev) - int(start))


def _fields() -> dict[str, FieldDef]:
    defs: list[FieldDef] = [
        simple("evt.type", "string", "event type (execve for a process execution)", lambda ev: ev.data.get("type")),
        simple("evt.dir", "string", "event direction (exec records are the '<' exit side)", lambda _ev: "<"),
        simple("evt.res", "string", "event result", lambda _ev: "SUCCESS"),
        simple("evt.rawres", "int64", "event result, numeric", lambda _ev: 0),
        simple("proc.args", "string", "arguments (argv[1:]) joined by spaces",
               lambda ev: " ".join((ev.data.get("args") or [])[1:])),
        simple("proc.cwd", "string", "current working directory", _key("cwd")),
        simple("proc.tty", "int64", "controlling terminal (0: none)", _key("tty")),
        simple("proc.ppid", "int64", "parent process id", _key("ppid")),
        simple("proc.vpid", "int64", "process id in its pid namespace", _key("vpid")),
        simple("proc.sid", "int64", "session id", _key("sid")),
        simple("proc.stdin.type", "string", "type of fd 0 (ipv4, ipv6, unix, pipe, file, tty …)", _key("stdin_type")),
        simple("proc.stdout.type", "string", "type of fd 1", _key("stdout_type")),
        simple("proc.stderr.type", "string", "type of fd 2", _key("stderr_type")),
        simple("proc.duration", "uint64", "nanoseconds since the process started", _duration),
        simple("thread.tid", "int64", "thread id (the exec'ing thread: the process id)", _key("pid")),
        simple("thread.vtid", "int64", "thread id in its pid namespace", _key("vpid")),
        simple("user.uid", "uint64", "user id", _key("uid")),
        simple("user.name", "string", "user name", _key("user")),
        simple("user.loginuid", "int64", "audit login uid (-1: unset)", _key("loginuid")),
        simple("user.loginname", "string", "audit login user name", _key("loginname")),
        simple("group.gid", "uint64", "group id", _key("gid")),
        simple("group.name", "string", "group name", _key("group")),
        simple("container.id", "string", "container id (12 characters; 'host' outside containers)",
               _container("id", "host")),
        simple("container.name", "string", "container name ('host' outside containers)", _container("name", "host")),
        simple("container.image", "string", "container image reference", _container("image")),
        simple("container.image.repository", "string", "container image repository", _image_part("repository")),
        simple("container.image.tag", "string", "container image tag", _image_part("tag")),
        simple("container.image.id", "string", "container image id", _container("image_id")),
        simple("container.privileged", "bool", "container runs privileged", _container("privileged")),
        simple("container.type", "string", "container runtime", lambda ev: "docker" if ev.data.get("container")
               else "host"),
        simple("k8s.ns.name", "string", "pod namespace (from the container's labels)",
               _label("io.kubernetes.pod.namespace")),
        simple("k8s.pod.name", "string", "pod name (from the container's labels)", _label("io.kubernetes.pod.name")),
    ]
    for suffix, type_, desc, extract in _rec_fields():
        defs.append(simple(f"proc.{suffix}", type_, desc, _ancestor(0, extract)))
        defs.append(simple(f"proc.p{suffix}" if suffix != "pid" else "proc.ppid_", type_, f"parent's {desc}",
                           _ancestor(1, extract)))

        def anc(arg: str | None, extract: Callable[[dict[str, Any]], Value] = extract) -> Getter:
            return _ancestors_any(extract) if arg is None else _ancestor(int(arg), extract)

        defs.append(FieldDef(f"proc.a{suffix}", type_ if suffix != "pid" else "int64",
                             f"an ancestor's {desc} (index: 0 self, 1 parent …; none: any ancestor)", anc,
                             arg=Arg.OPTIONAL, index_arg=True, any_match=True))
    defs = [d for d in defs if d.name != "proc.ppid_"]
    defs += generic_fields("process", _time)
    return {d.name: d for d in defs}


SOURCE = register("rule_source")(FieldSource(
    name="process",
    rule_sources=("syscall", "process"),
    fields=_fields(),
    index_fields=("evt.type",),
    time_ns=_time,
    falco_prefixes=SYSCALL_PREFIXES,
    output_aliases={"container.info": "container_id=%container.id container_name=%container.name"},
))
