"""Read-only views over a HostSnapshot's raw facts, shared by the Docker checks (no judging here).

- :class:`Container`, :class:`Image`: typed accessors over engine inspects;
- :class:`DaemonConfig`: a daemon option as the command line (``/proc``) and ``daemon.json`` set it;
- :func:`audited`: whether the audit rules watch a path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from containerguard.models.snapshot import AuditRules, DaemonProcess, HostFile, HostSnapshot, ImageFacts, Skipped


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


class Container:
    """A container inspect."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.id = str(raw.get("Id", ""))
        self.name = str(raw.get("Name", "")).lstrip("/") or self.id[:12]
        self.config = _dict(raw.get("Config"))
        self.host_config = _dict(raw.get("HostConfig"))
        self.state = _dict(raw.get("State"))

    @property
    def running(self) -> bool:
        """Whether the engine reports the container running."""
        return bool(self.state.get("Running"))

    @property
    def image(self) -> str:
        """The image reference the container was created from."""
        return str(self.config.get("Image") or self.raw.get("Image") or "")

    @property
    def mounts(self) -> list[Mapping[str, Any]]:
        """``Mounts`` (binds, volumes, tmpfs) as the engine reports them."""
        return [m for m in _list(self.raw.get("Mounts")) if isinstance(m, Mapping)]

    def host(self, key: str, default: Any = None) -> Any:
        """A ``HostConfig`` field."""
        return self.host_config.get(key, default)

    def security_opt(self) -> list[str]:
        """``HostConfig.SecurityOpt`` entries."""
        return [str(o) for o in _list(self.host_config.get("SecurityOpt"))]

    def port_bindings(self) -> list[tuple[str, str, str]]:
        """(container port/proto, host ip, host port) for every published port."""
        out: list[tuple[str, str, str]] = []
        ports = _dict(_dict(self.raw.get("NetworkSettings")).get("Ports")) or _dict(
            self.host_config.get("PortBindings"))
        for cport, bindings in ports.items():
            for b in _list(bindings):
                if isinstance(b, Mapping):
                    out.append((str(cport), str(b.get("HostIp") or ""), str(b.get("HostPort") or "")))
        return out


class Image:
    """An image inspect and its history."""

    def __init__(self, facts: ImageFacts) -> None:
        self.raw = facts.inspect
        self.history = facts.history
        self.id = str(self.raw.get("Id", ""))
        tags = [str(t) for t in _list(self.raw.get("RepoTags")) if t and t != "<none>:<none>"]
        self.name = tags[0] if tags else self.id.removeprefix("sha256:")[:12]
        self.config = _dict(self.raw.get("Config"))

    def created_by(self) -> list[str] | Skipped:
        """The ``CreatedBy`` of every history entry, oldest first."""
        if isinstance(self.history, Skipped):
            return self.history
        return [str(h.get("CreatedBy") or "") for h in reversed(self.history)]


@dataclass(frozen=True)
class Setting:
    """A daemon option's value and where it was read."""

    value: Any
    origin: str


class DaemonConfig:
    """Daemon options from the dockerd command line and daemon.json (the engine refuses conflicts).

    ``known`` is False when neither source could be read: a check must then WARN, never PASS.
    """

    def __init__(self, snapshot: HostSnapshot) -> None:
        self.snapshot = snapshot
        self.argv: tuple[str, ...] = snapshot.dockerd.argv if isinstance(snapshot.dockerd, DaemonProcess) else ()
        self.argv_reason = snapshot.dockerd.reason if isinstance(snapshot.dockerd, Skipped) else ""
        self.json: Mapping[str, Any] = {}
        self.json_reason = ""
        path = snapshot.paths.get("daemon.json", "/etc/docker/daemon.json")
        f = snapshot.files.get(path)
        if isinstance(f, Skipped):
            self.json_reason = f.reason
        elif f is None:
            self.json_reason = f"{path} was not collected"
        elif f.exists and f.content is not None:
            try:
                parsed = json.loads(f.content)
            except ValueError:
                self.json_reason = f"{path} is not valid JSON"
            else:
                if isinstance(parsed, Mapping):
                    self.json = parsed
                else:
                    self.json_reason = f"{path} is not a JSON object"
        self.json_path = path

    @property
    def known(self) -> bool:
        """Both the command line and daemon.json (or its absence) were read."""
        return not self.argv_reason and not self.json_reason

    @property
    def unknown_reason(self) -> str:
        """Why the daemon configuration is not fully known."""
        return "; ".join(r for r in (self.argv_reason, self.json_reason) if r)

    def flag_values(self, *names: str) -> list[str]:
        """Values of a command-line option (repeatable; boolean flags give ``true``)."""
        out: list[str] = []
        for i, arg in enumerate(self.argv):
            for name in names:
                if arg == name:
                    nxt = self.argv[i + 1] if i + 1 < len(self.argv) else ""
                    out.append(nxt if nxt and not nxt.startswith("-") else "true")
                elif arg.startswith(name + "="):
                    out.append(arg[len(name) + 1:])
        return out

    def get(self, json_key: str, *flags: str, boolean: bool = False) -> Setting | None:
        """The option from the command line (last wins) or daemon.json; ``None`` when unset in both.

        Boolean flags written alone (``--icc``) are ``true``; flags never take the next argument then.
        """
        for i in range(len(self.argv) - 1, -1, -1):
            arg = self.argv[i]
            for name in flags:
                if arg.startswith(name + "="):
                    return Setting(arg[len(name) + 1:], f"dockerd {arg}")
                if arg == name:
                    if boolean:
                        return Setting("true", f"dockerd {arg}")
                    nxt = self.argv[i + 1] if i + 1 < len(self.argv) else ""
                    return Setting(nxt, f"dockerd {arg} {nxt}")
        if json_key in self.json:
            value = self.json[json_key]
            return Setting(value, f"{self.json_path}: \"{json_key}\": {json.dumps(value)}")
        return None

    def sources(self) -> str:
        """Human summary of what was read."""
        argv = " ".join(self.argv) if self.argv else f"(dockerd command line unknown: {self.argv_reason})"
        return f"dockerd command line: {argv}"


def truthy(value: Any) -> bool:
    """A daemon option value as a boolean (``true``, ``1``, ``True``)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def audited(rules: AuditRules, path: str) -> str:
    """The audit rule watching ``path`` (itself or a watched parent directory), else ``""``."""
    for rule in rules.rules:
        tokens = rule.split()
        targets: list[str] = []
        for i, tok in enumerate(tokens):
            if tok == "-w" and i + 1 < len(tokens):
                targets.append(tokens[i + 1])
            elif tok.startswith(("path=", "dir=")):
                targets.append(tok.split("=", 1)[1])
        for target in targets:
            target = target.rstrip("/") or "/"
            if path == target or path.startswith(target + "/"):
                return rule
    return ""


def describe_file(f: HostFile) -> str:
    """``path owner:group mode`` as ls shows it."""
    owner = f.owner or str(f.uid)
    group = f.group or str(f.gid)
    return f"{f.path} is {f.kind} {owner}:{group} mode {f.mode:04o}"


def names(items: Sequence[str]) -> str:
    """A comma list for evidence."""
    return ", ".join(items) if items else "(none)"
