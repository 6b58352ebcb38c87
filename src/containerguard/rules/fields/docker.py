"""``docker`` source: ``container.*`` (and, for exec events, ``proc.*``) from the Docker Engine's events.

An event's ``data`` is one Docker ``/events`` message (``Type``, ``Action``, ``Actor.ID``,
``Actor.Attributes``, ``time``/``timeNano``) optionally carrying ``inspect``: the ``docker container
inspect`` object the agent fetched for it (privileged flag, mounts). ``evt.type`` is the action without
its detail (``exec_start: sh -c id`` -> ``exec_start``); the detail of an exec action is the command.
"""

from __future__ import annotations

import shlex
from typing import Any

from containerguard.registry import register

from ..model import Event
from . import Arg, FieldDef, FieldSource, Getter, Value, simple
from .common import generic_fields
from .process import SYSCALL_PREFIXES, split_image


def _time(ev: Event) -> int:
    data = ev.data
    nano = data.get("timeNano")
    if isinstance(nano, int) and nano > 0:
        return nano
    secs = data.get("time")
    return int(secs) * 1_000_000_000 if isinstance(secs, int | float) else 0


def _action(ev: Event) -> str:
    action = ev.data.get("Action") or ev.data.get("status") or ""
    return str(action)


def _evt_type(ev: Event) -> Value:
    return _action(ev).split(":", 1)[0].strip() or None


def _command(ev: Event) -> list[str] | None:
    action = _action(ev)
    if not action.startswith(("exec_create:", "exec_start:")):
        return None
    text = action.split(":", 1)[1].strip()
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _attrs(ev: Event) -> dict[str, Any]:
    actor = ev.data.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    return attrs if isinstance(attrs, dict) else {}


def _inspect(ev: Event) -> dict[str, Any]:
    ins = ev.data.get("inspect") or {}
    return ins if isinstance(ins, dict) else {}


def _is_container(ev: Event) -> bool:
    return (ev.data.get("Type") or "container") == "container"


def _container_id(ev: Event) -> Value:
    if not _is_container(ev):
        return None
    cid = (ev.data.get("Actor") or {}).get("ID") or ev.data.get("id") or _inspect(ev).get("Id")
    return str(cid)[:12] if cid else None


def _name(ev: Event) -> Value:
    if not _is_container(ev):
        return None
    name = _attrs(ev).get("name") or _inspect(ev).get("Name")
    return str(name).lstrip("/") if name else None


def _image(ev: Event) -> Value:
    if not _is_container(ev):
        image = (ev.data.get("Actor") or {}).get("ID") or ev.data.get("id")
        return str(image) if image and ev.data.get("Type") == "image" else None
    image = _attrs(ev).get("image") or (_inspect(ev).get("Config") or {}).get("Image") or ev.data.get("from")
    return str(image) if image else None


def _image_part(index: int) -> Getter:
    def get(ev: Event) -> Value:
        image = _image(ev)
        return split_image(image)[index] if isinstance(image, str) else None

    return get


def _privileged(ev: Event) -> Value:
    host = _inspect(ev).get("HostConfig")
    if not isinstance(host, dict) or "Privileged" not in host:
        return None
    return bool(host["Privileged"])


def _mounts(ev: Event) -> list[dict[str, Any]] | None:
    mounts = _inspect(ev).get("Mounts")
    return [m for m in mounts if isinstance(m, dict)] if isinstance(mounts, list) else None


def _mount_field(key: str) -> Any:
    """``container.mount.source`` / ``.dest``: by index, by destination path, or (no argument) all of them."""

    def make(arg: str | None) -> Getter:
        def get(ev: Event) -> Value:
            mounts = _mounts(ev)
            if mounts is None:
                return None
            if arg is None:
                return tuple(str(m.get(key, "")) for m in mounts)
            if arg.isdigit():
                i = int(arg)
                return str(mounts[i].get(key, "")) if i < len(mounts) else None
            for m in mounts:
                if m.get("Destination") == arg or m.get("Source") == arg:
                    return str(m.get(key, ""))
            return None

        return get

    return make


def _mounts_text(ev: Event) -> Value:
    mounts = _mounts(ev)
    if mounts is None:
        return None
    return ",".join(
        f"{m.get('Source', '')}:{m.get('Destination', '')}:{m.get('Mode', '')}:{str(m.get('RW', '')).lower()}:"
        f"{m.get('Propagation', '')}" for m in mounts)


def _host_mode(key: str) -> Getter:
    def get(ev: Event) -> Value:
        host = _inspect(ev).get("HostConfig")
        return str(host.get(key) or "") if isinstance(host, dict) else None

    return get


def _label(label: str) -> Getter:
    def get(ev: Event) -> Value:
        v = _attrs(ev).get(label) or ((_inspect(ev).get("Config") or {}).get("Labels") or {}).get(label)
        return str(v) if v else None

    return get


def _proc(part: str) -> Getter:
    def get(ev: Event) -> Value:
        argv = _command(ev)
        if not argv:
            return None
        name = argv[0].rsplit("/", 1)[-1]
        if part == "name":
            return name
        if part == "exe":
            return argv[0]
        if part == "args":
            return " ".join(argv[1:])
        return " ".join([name, *argv[1:]])

    return get


def _fields() -> dict[str, FieldDef]:
    defs = [
        simple("evt.type", "string", "the action without its detail (create, start, exec_start, pull …)", _evt_type),
        simple("docker.type", "string", "the object type (container, image, network, volume …)",
               lambda ev: ev.data.get("Type")),
        simple("docker.action", "string", "the full action as the Engine sent it", lambda ev: _action(ev) or None),
        simple("container.id", "string", "container id (12 characters)", _container_id),
        simple("container.name", "string", "container name", _name),
        simple("container.image", "string", "image reference (for image events: the image)", _image),
        simple("container.image.repository", "string", "image repository", _image_part(0)),
        simple("container.image.tag", "string", "image tag", _image_part(1)),
        simple("container.privileged", "bool", "container runs privileged (from inspect)", _privileged),
        FieldDef("container.mount.source", "string", "mount source by index or destination; none: all",
                 _mount_field("Source"), is_list=True, arg=Arg.OPTIONAL),
        FieldDef("container.mount.dest", "string", "mount destination by index or source; none: all",
                 _mount_field("Destination"), is_list=True, arg=Arg.OPTIONAL),
        simple("container.mounts", "string", "all mounts as source:dest:mode:rdrw:propagation", _mounts_text),
        simple("container.network_mode", "string", "HostConfig.NetworkMode (host: host network)",
               _host_mode("NetworkMode")),
        simple("container.pid_mode", "string", "HostConfig.PidMode (host: host pid namespace)",
               _host_mode("PidMode")),
        simple("k8s.ns.name", "string", "pod namespace (from labels)", _label("io.kubernetes.pod.namespace")),
        simple("k8s.pod.name", "string", "pod name (from labels)", _label("io.kubernetes.pod.name")),
        simple("proc.name", "string", "exec events: the command's name", _proc("name")),
        simple("proc.exe", "string", "exec events: the command's argv[0]", _proc("exe")),
        simple("proc.args", "string", "exec events: the command's arguments", _proc("args")),
        simple("proc.cmdline", "string", "exec events: the command line", _proc("cmdline")),
    ]
    defs += generic_fields("docker", _time)
    return {d.name: d for d in defs}


SOURCE = register("rule_source")(FieldSource(
    name="docker",
    rule_sources=("docker",),
    fields=_fields(),
    index_fields=("evt.type",),
    time_ns=_time,
    falco_prefixes=(*SYSCALL_PREFIXES, "docker."),
    output_aliases={"container.info": "container_id=%container.id container_name=%container.name"},
))
