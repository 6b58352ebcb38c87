"""HostSnapshot: every fact about a Docker host that the CIS checks read, gathered once, judged later.

A snapshot is plain data: the Engine API answers as the engine gave them (``version``, ``info``,
container and image inspects, networks, swarm), the host files the benchmark names (owner, mode and,
for small configuration files, their text), the ``dockerd`` command line, the audit rules and the
mount table. Whatever could not be read is a :class:`Skipped` with the reason, never a missing key,
so a check can say WARN with the reason instead of a false PASS.

:func:`snapshot_to_json` / :func:`snapshot_from_json` round-trip a snapshot through JSON so it can be
assessed later or elsewhere (``scan host --snapshot FILE``). No I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

SCHEMA = 1
"""Version of the JSON shape written by :func:`snapshot_to_dict`."""

KIND_FILE = "file"
KIND_DIR = "dir"
KIND_SOCKET = "socket"
KIND_OTHER = "other"
KIND_MISSING = "missing"
KINDS = (KIND_FILE, KIND_DIR, KIND_SOCKET, KIND_OTHER, KIND_MISSING)

T = TypeVar("T")


class SnapshotFormatError(ValueError):
    """A snapshot document is truncated, malformed or of an unknown schema (one-line message)."""


@dataclass(frozen=True)
class Skipped:
    """A fact that could not be read, and why (data, not an exception)."""

    reason: str


@dataclass(frozen=True)
class HostFile:
    """A host path the benchmark names: its type, owner and permission bits, maybe its text."""

    path: str
    kind: str
    """``file``, ``dir``, ``socket``, ``other`` or ``missing`` (does not exist)."""
    uid: int = -1
    gid: int = -1
    owner: str = ""
    """User name of ``uid`` on the host (empty when unknown)."""
    group: str = ""
    """Group name of ``gid`` on the host (empty when unknown)."""
    mode: int = 0
    """Permission bits, including setuid/setgid/sticky (``st_mode & 0o7777``)."""
    content: str | None = None
    """Text of small configuration files (daemon.json, unit files…); ``None`` for the others."""

    @property
    def exists(self) -> bool:
        """Whether the path exists on the host."""
        return self.kind != KIND_MISSING


@dataclass(frozen=True)
class DaemonProcess:
    """The running ``dockerd``: its pid and command line (from ``/proc/PID/cmdline``)."""

    pid: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class MountPoint:
    """One line of ``/proc/mounts``."""

    device: str
    mountpoint: str
    fstype: str
    options: str


@dataclass(frozen=True)
class ImageFacts:
    """One image: its inspect and its history (newest layer first, as the engine gives it)."""

    inspect: Mapping[str, Any]
    history: tuple[Mapping[str, Any], ...] | Skipped = ()


@dataclass(frozen=True)
class AuditRules:
    """The audit rules in force (``auditctl -l``) or configured (the rules file) and where they came from."""

    source: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class HostSnapshot:
    """Every fact the Docker host checks read."""

    docker_host: str
    """The Engine URL the facts came from."""
    collected_at: str
    """RFC 3339 UTC time of collection."""
    local: bool
    """Host files, /proc and audit rules were read on the machine the engine runs on."""
    version: Mapping[str, Any]
    info: Mapping[str, Any]
    containers: tuple[Mapping[str, Any], ...] = ()
    """Container inspects (every state; the audit chooses which ones section 5 assesses)."""
    images: tuple[ImageFacts, ...] = ()
    networks: tuple[Mapping[str, Any], ...] = ()
    swarm: Mapping[str, Any] | Skipped = field(default_factory=dict)
    """``GET /swarm`` (managers only); ``{}`` when swarm mode is inactive."""
    nodes: tuple[Mapping[str, Any], ...] | Skipped = ()
    """``GET /nodes`` (managers only)."""
    execs: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    """Container id -> inspects of the exec sessions the engine still knows."""
    processes: Mapping[str, tuple[str, ...] | Skipped] = field(default_factory=dict)
    """Container id -> command lines of its processes (``GET /containers/ID/top``; running only)."""
    paths: Mapping[str, str] = field(default_factory=dict)
    """Role -> host path resolved by the collector (``docker.service``, ``daemon.json``, ``tlscacert``…)."""
    registry_certs: tuple[str, ...] | Skipped = ()
    """Files under ``/etc/docker/certs.d``."""
    files: Mapping[str, HostFile | Skipped] = field(default_factory=dict)
    """Host path -> facts about it."""
    dockerd: DaemonProcess | Skipped = Skipped("not collected")
    audit: AuditRules | Skipped = Skipped("not collected")
    mounts: tuple[MountPoint, ...] | Skipped = Skipped("not collected")
    docker_group: tuple[str, ...] | Skipped = Skipped("not collected")
    """Members of the host's ``docker`` group."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Benchmark-relevant environment of the host (``DOCKER_CONTENT_TRUST``), with its origin."""
    schema: int = SCHEMA

    def file(self, role: str) -> HostFile | Skipped | None:
        """The facts about the path playing ``role`` (``None`` when the collector resolved no path)."""
        path = self.paths.get(role)
        if path is None:
            return None
        return self.files.get(path, Skipped(f"{path} was not collected"))


# --- JSON ---------------------------------------------------------------------------------------

def _maybe(value: Any, encode: Any) -> Any:
    if isinstance(value, Skipped):
        return {"skipped": value.reason}
    return encode(value)


def _file_to_dict(f: HostFile | Skipped) -> dict[str, Any]:
    if isinstance(f, Skipped):
        return {"skipped": f.reason}
    out: dict[str, Any] = {"kind": f.kind}
    if f.exists:
        out.update(uid=f.uid, gid=f.gid, owner=f.owner, group=f.group, mode=f"{f.mode:04o}")
    if f.content is not None:
        out["content"] = f.content
    return out


def snapshot_to_dict(s: HostSnapshot) -> dict[str, Any]:
    """A JSON-ready dict of ``s`` (inverse of :func:`snapshot_from_dict`)."""
    return {
        "schema": s.schema,
        "kind": "containerguard.host-snapshot",
        "docker_host": s.docker_host,
        "collected_at": s.collected_at,
        "local": s.local,
        "version": dict(s.version),
        "info": dict(s.info),
        "containers": [dict(c) for c in s.containers],
        "images": [{"inspect": dict(i.inspect), "history": _maybe(i.history, lambda h: [dict(x) for x in h])}
                   for i in s.images],
        "networks": [dict(n) for n in s.networks],
        "swarm": _maybe(s.swarm, dict),
        "nodes": _maybe(s.nodes, lambda n: [dict(x) for x in n]),
        "execs": {cid: [dict(e) for e in execs] for cid, execs in s.execs.items()},
        "processes": {cid: _maybe(p, list) for cid, p in s.processes.items()},
        "paths": dict(s.paths),
        "registry_certs": _maybe(s.registry_certs, list),
        "files": {path: _file_to_dict(f) for path, f in s.files.items()},
        "dockerd": _maybe(s.dockerd, lambda d: {"pid": d.pid, "argv": list(d.argv)}),
        "audit": _maybe(s.audit, lambda a: {"source": a.source, "rules": list(a.rules)}),
        "mounts": _maybe(s.mounts, lambda ms: [[m.device, m.mountpoint, m.fstype, m.options] for m in ms]),
        "docker_group": _maybe(s.docker_group, list),
        "environment": dict(s.environment),
    }


def snapshot_to_json(s: HostSnapshot) -> str:
    """The snapshot as indented JSON text."""
    return json.dumps(snapshot_to_dict(s), indent=1, sort_keys=False, default=str) + "\n"


def _expect(value: Any, kind: type[T], where: str) -> T:
    if not isinstance(value, kind):
        raise SnapshotFormatError(f"{where} should be {kind.__name__}, got {type(value).__name__}")
    return value


def _skipped_or(value: Any, where: str) -> Skipped | None:
    if isinstance(value, dict) and set(value) == {"skipped"}:
        return Skipped(str(value["skipped"]))
    return None


def _dicts(value: Any, where: str) -> tuple[dict[str, Any], ...]:
    items = _expect(value, list, where)
    return tuple(_expect(x, dict, f"{where}[{i}]") for i, x in enumerate(items))


def _strs(value: Any, where: str) -> tuple[str, ...]:
    items = _expect(value, list, where)
    return tuple(_expect(x, str, f"{where}[{i}]") for i, x in enumerate(items))


def _file_from_dict(path: str, d: Any) -> HostFile | Skipped:
    where = f"files[{path!r}]"
    skipped = _skipped_or(d, where)
    if skipped:
        return skipped
    d = _expect(d, dict, where)
    kind = _expect(d.get("kind"), str, f"{where}.kind")
    if kind not in KINDS:
        raise SnapshotFormatError(f"{where}.kind is {kind!r}, not one of {', '.join(KINDS)}")
    content = d.get("content")
    if content is not None:
        _expect(content, str, f"{where}.content")
    if kind == KIND_MISSING:
        return HostFile(path, kind, content=content)
    try:
        mode = int(_expect(d.get("mode"), str, f"{where}.mode"), 8)
    except ValueError as exc:
        raise SnapshotFormatError(f"{where}.mode is not an octal number") from exc
    return HostFile(path, kind, uid=_expect(d.get("uid"), int, f"{where}.uid"),
                    gid=_expect(d.get("gid"), int, f"{where}.gid"), owner=str(d.get("owner", "")),
                    group=str(d.get("group", "")), mode=mode, content=content)


def _image_from_dict(d: Any, where: str) -> ImageFacts:
    d = _expect(d, dict, where)
    history_raw = d.get("history", [])
    history = _skipped_or(history_raw, f"{where}.history") or _dicts(history_raw, f"{where}.history")
    return ImageFacts(_expect(d.get("inspect"), dict, f"{where}.inspect"), history)


def _dockerd_from(d: Any) -> DaemonProcess | Skipped:
    skipped = _skipped_or(d, "dockerd")
    if skipped:
        return skipped
    d = _expect(d, dict, "dockerd")
    return DaemonProcess(_expect(d.get("pid"), int, "dockerd.pid"), _strs(d.get("argv"), "dockerd.argv"))


def _audit_from(d: Any) -> AuditRules | Skipped:
    skipped = _skipped_or(d, "audit")
    if skipped:
        return skipped
    d = _expect(d, dict, "audit")
    return AuditRules(_expect(d.get("source"), str, "audit.source"), _strs(d.get("rules"), "audit.rules"))


def _mounts_from(d: Any) -> tuple[MountPoint, ...] | Skipped:
    skipped = _skipped_or(d, "mounts")
    if skipped:
        return skipped
    out = []
    for i, row in enumerate(_expect(d, list, "mounts")):
        fields = _strs(row, f"mounts[{i}]")
        if len(fields) != 4:
            raise SnapshotFormatError(f"mounts[{i}] should have 4 fields")
        out.append(MountPoint(*fields))
    return tuple(out)


def snapshot_from_dict(d: Any) -> HostSnapshot:
    """Inverse of :func:`snapshot_to_dict`; :class:`SnapshotFormatError` on anything malformed."""
    d = _expect(d, dict, "snapshot")
    if d.get("kind") != "containerguard.host-snapshot":
        raise SnapshotFormatError("not a containerguard host snapshot (no kind: containerguard.host-snapshot)")
    schema = d.get("schema")
    if schema != SCHEMA:
        raise SnapshotFormatError(f"snapshot schema {schema!r} is not supported (this version reads {SCHEMA})")
    swarm_raw = d.get("swarm", {})
    nodes_raw = d.get("nodes", [])
    certs_raw = d.get("registry_certs", [])
    group_raw = d.get("docker_group", {"skipped": "not collected"})
    processes: dict[str, tuple[str, ...] | Skipped] = {}
    for cid, procs in _expect(d.get("processes", {}), dict, "processes").items():
        processes[cid] = _skipped_or(procs, f"processes[{cid}]") or _strs(procs, f"processes[{cid}]")
    environment = _expect(d.get("environment", {}), dict, "environment")
    paths = _expect(d.get("paths", {}), dict, "paths")
    return HostSnapshot(
        docker_host=_expect(d.get("docker_host"), str, "docker_host"),
        collected_at=_expect(d.get("collected_at"), str, "collected_at"),
        local=_expect(d.get("local"), bool, "local"),
        version=_expect(d.get("version"), dict, "version"),
        info=_expect(d.get("info"), dict, "info"),
        containers=_dicts(d.get("containers", []), "containers"),
        images=tuple(_image_from_dict(x, f"images[{i}]")
                     for i, x in enumerate(_expect(d.get("images", []), list, "images"))),
        networks=_dicts(d.get("networks", []), "networks"),
        swarm=_skipped_or(swarm_raw, "swarm") or _expect(swarm_raw, dict, "swarm"),
        nodes=_skipped_or(nodes_raw, "nodes") or _dicts(nodes_raw, "nodes"),
        execs={cid: _dicts(v, f"execs[{cid}]")
               for cid, v in _expect(d.get("execs", {}), dict, "execs").items()},
        processes=processes,
        paths={str(k): _expect(v, str, f"paths[{k}]") for k, v in paths.items()},
        registry_certs=_skipped_or(certs_raw, "registry_certs") or _strs(certs_raw, "registry_certs"),
        files={str(p): _file_from_dict(str(p), f)
               for p, f in _expect(d.get("files", {}), dict, "files").items()},
        dockerd=_dockerd_from(d.get("dockerd", {"skipped": "not collected"})),
        audit=_audit_from(d.get("audit", {"skipped": "not collected"})),
        mounts=_mounts_from(d.get("mounts", {"skipped": "not collected"})),
        docker_group=_skipped_or(group_raw, "docker_group") or _strs(group_raw, "docker_group"),
        environment={str(k): _expect(v, str, f"environment[{k}]") for k, v in environment.items()},
        schema=SCHEMA,
    )


def snapshot_from_json(text: str) -> HostSnapshot:
    """Parse a snapshot written by :func:`snapshot_to_json`; :class:`SnapshotFormatError` (one line) if bad."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # A cut-off file ends before its closing brace, wherever the parser noticed.
        what = "truncated" if not text.rstrip().endswith("}") else "malformed"
        raise SnapshotFormatError(f"{what} JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    return snapshot_from_dict(document)
