"""Collect a :class:`HostSnapshot`: the Docker Engine API plus the host files CIS Docker 1.6.0 names.

Facts only; nothing here judges. Engine facts come from the Engine API (``version``, ``info``, every
container's and image's inspect, image history, networks, swarm, exec sessions): through
:class:`~containerguard.sources.engine_http.EngineHTTP` on a local unix socket, through the ``docker``
SDK for tcp, TLS and ssh engines; both answer alike, errors included. Host facts —
files, the ``dockerd`` command line, audit rules, mounts, the ``docker`` group, container processes —
are read only when the engine listens on a local unix socket: for a remote engine they belong to
another machine, so they become :class:`Skipped` data (the agent reads them on that machine).

Anything unreadable becomes ``Skipped(reason)``; only an engine that cannot be reached, is not a Docker
Engine, or answers errors raises :class:`SourceError` (one line).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from containerguard.errors import SourceError
from containerguard.lazy import lazy_module
from containerguard.models.snapshot import (
    KIND_DIR,
    KIND_FILE,
    KIND_MISSING,
    KIND_OTHER,
    KIND_SOCKET,
    AuditRules,
    DaemonProcess,
    HostFile,
    HostSnapshot,
    ImageFacts,
    MountPoint,
    Skipped,
)
from containerguard.sources.engine_http import EngineError, EngineHTTP

if TYPE_CHECKING:
    import docker
    import docker.errors
    import requests
else:  # imported when a host is assessed, not when an image REF is resolved
    docker = lazy_module("docker")
    requests = lazy_module("requests")

T = TypeVar("T")

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
MAX_CONTENT = 256 * 1024
"""Configuration files larger than this are recorded without their text."""
SYSTEMD_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
SYSTEMD_RUNTIME = "/run/systemd/system"
"""Present exactly when systemd is the running init (``sd_booted(3)``)."""
BIN_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin")
BINARIES = ("containerd", "containerd-shim", "containerd-shim-runc-v1", "containerd-shim-runc-v2", "runc")
"""Binaries whose auditing section 1.1 asks for (dockerd is resolved from the running process)."""
AUDIT_RULE_FILES = ("/etc/audit/audit.rules",)
AUDIT_RULE_DIR = "/etc/audit/rules.d"
ENV_KEYS = ("DOCKER_CONTENT_TRUST",)


def _api_errors() -> tuple[type[BaseException], ...]:
    """What engine calls raise on a dead, foreign or failing engine (ValueError: a non-JSON answer).

    A function, not a constant: naming the SDK's classes imports the SDK."""
    return (docker.errors.DockerException, requests.RequestException, EngineError, ValueError)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def engine_url(docker_host: str | None) -> str:
    """The engine URL used: ``--docker-host``, else ``DOCKER_HOST``, else the default socket."""
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def _arg_values(argv: Iterable[str], *names: str) -> list[str]:
    """Values of a repeatable option in a Go-flag style command line (``--x v``, ``--x=v``, ``-x v``)."""
    out: list[str] = []
    args = list(argv)
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                out.append(args[i + 1])
            elif arg.startswith(name + "="):
                out.append(arg[len(name) + 1:])
    return out


def _flag_set(argv: Iterable[str], name: str) -> bool:
    return any(a == name or (a.startswith(name + "=") and a.split("=", 1)[1] != "false") for a in argv)


class HostCollector:
    """Reads one Docker host's facts. ``fs_root`` re-roots every host path (tests use a fake tree)."""

    def __init__(self, docker_host: str | None = None, fs_root: Path = Path("/"),
                 client: Any = None, timeout: int = 60) -> None:
        self.url = engine_url(docker_host)
        self.fs_root = fs_root
        self.timeout = timeout
        self._client = client
        self._engine: Any = None  # the Engine API in use: the given client's, else one we opened

    # --- engine ------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._engine is None and self._client is not None:
            self._engine = self._client.api
        elif self._engine is None:
            try:
                # Both clients learn the API version at once (/_ping, /version): a foreign socket fails here.
                if self.url.startswith("unix://"):
                    # One request per container, image, history and network: the SDK's ~0.8 ms of Python
                    # per request was most of an assessment, a kept-alive http.client one costs ~0.1 ms.
                    self._engine = EngineHTTP(self.url, timeout=self.timeout)
                else:
                    client = docker.DockerClient(base_url=self.url, timeout=self.timeout)
                    # Proxy variables never apply to the engine socket; reading them costs per request.
                    client.api.trust_env = False
                    self._engine = client.api
            except (docker.errors.DockerException, EngineError, ValueError) as exc:
                if _unreachable(exc):
                    raise SourceError(f"cannot reach a Docker Engine at {self.url}: {_one_line(exc)}") from exc
                detail = _one_line(exc).removeprefix("Error while fetching server API version: ")
                raise SourceError(f"{self.url} did not answer as a Docker Engine: {detail}") from exc
        return self._engine

    def _api(self, what: str, call: Callable[[], T]) -> T:
        """An engine call that must succeed: errors become one-line :class:`SourceError`."""
        try:
            return call()
        except docker.errors.APIError as exc:
            raise SourceError(f"Docker Engine at {self.url} answered an error to {what}: "
                              f"{_one_line(exc)}") from exc
        except _api_errors() as exc:
            raise SourceError(f"cannot read {what} from {self.url}: {_one_line(exc)}") from exc

    def _optional(self, what: str, call: Callable[[], T]) -> T | Skipped:
        """An engine call whose failure is data (e.g. history of an image removed meanwhile)."""
        try:
            return call()
        except _api_errors() as exc:
            return Skipped(f"{what}: {_one_line(exc)}")

    def _engine_version(self, api: Any) -> dict[str, Any]:
        try:
            version = api.version()
        except _api_errors() as exc:
            # A socket that is not Docker answers garbage or nothing: say so rather than the SDK's trace.
            raise SourceError(f"{self.url} did not answer as a Docker Engine: {_one_line(exc)}") from exc
        if not isinstance(version, dict) or "ApiVersion" not in version:
            raise SourceError(f"{self.url} did not answer as a Docker Engine (no ApiVersion in /version)")
        return version

    # --- host files ----------------------------------------------------------------------------

    def _host(self, path: str) -> Path:
        return self.fs_root / path.lstrip("/")

    def _stat_file(self, path: str, read_content: bool = False) -> HostFile | Skipped:
        real = self._host(path)
        try:
            st = real.stat()
        except FileNotFoundError:
            return HostFile(path, KIND_MISSING)
        except OSError as exc:
            return Skipped(f"cannot stat {path}: {exc.strerror}")
        if stat.S_ISREG(st.st_mode):
            kind = KIND_FILE
        elif stat.S_ISDIR(st.st_mode):
            kind = KIND_DIR
        elif stat.S_ISSOCK(st.st_mode):
            kind = KIND_SOCKET
        else:
            kind = KIND_OTHER
        content: str | None = None
        if read_content and kind == KIND_FILE and st.st_size <= MAX_CONTENT:
            try:
                content = real.read_bytes().decode("utf-8", "replace")
            except OSError as exc:
                return Skipped(f"cannot read {path}: {exc.strerror}")
        return HostFile(path, kind, uid=st.st_uid, gid=st.st_gid, owner=_user_name(st.st_uid),
                        group=_group_name(st.st_gid), mode=stat.S_IMODE(st.st_mode), content=content)

    def _read_text(self, path: str) -> str | Skipped:
        try:
            return self._host(path).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return Skipped(f"{path} does not exist")
        except OSError as exc:
            return Skipped(f"cannot read {path}: {exc.strerror}")

    def _systemd_unit(self, unit: str) -> str:
        """The unit file systemd uses (``systemctl show -p FragmentPath``), else the first usual path."""
        # sd_booted()'s test: without /run/systemd/system systemctl can only fail (containers, chroots),
        # and each failing run costs ~4 ms.
        if self.fs_root == Path("/") and os.path.isdir(SYSTEMD_RUNTIME) and shutil.which("systemctl"):
            try:
                done = subprocess.run(["systemctl", "show", "-p", "FragmentPath", "--value", unit],
                                      capture_output=True, text=True, timeout=10, check=False)
                path = done.stdout.strip()
                if done.returncode == 0 and path.startswith("/"):
                    return path
            except (OSError, subprocess.SubprocessError):
                pass  # no systemd running (containers, chroots): fall back to the usual paths
        candidates = [f"{d}/{unit}" for d in SYSTEMD_DIRS]
        return next((c for c in candidates if self._host(c).exists()), candidates[1])

    def _binary(self, name: str) -> str:
        candidates = [f"{d}/{name}" for d in BIN_DIRS]
        return next((c for c in candidates if self._host(c).exists()), candidates[0])

    # --- /proc -------------------------------------------------------------------------------

    def _proc_cmdlines(self) -> dict[int, tuple[str, ...]]:
        out: dict[int, tuple[str, ...]] = {}
        proc = self._host("/proc")
        try:
            entries = [e for e in os.listdir(proc) if e.isdigit()]
        except OSError:
            return out
        for pid in entries:
            try:
                raw = (proc / pid / "cmdline").read_bytes()
            except OSError:
                continue  # the process ended meanwhile, or is not ours to read
            if raw:
                out[int(pid)] = tuple(a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0"))
        return out

    def _dockerd(self, cmdlines: Mapping[int, tuple[str, ...]], info: Mapping[str, Any],
                 daemon_hosts: list[str]) -> DaemonProcess | Skipped:
        daemons = {pid: argv for pid, argv in cmdlines.items() if argv and os.path.basename(argv[0]) == "dockerd"}
        if not daemons:
            return Skipped("no dockerd process found in /proc (rootless, another pid namespace, or remote)")
        socket = self.url[len("unix://"):] if self.url.startswith("unix://") else ""

        def listens_here(argv: tuple[str, ...]) -> bool:
            hosts = _arg_values(argv, "-H", "--host") or daemon_hosts or [DEFAULT_SOCKET]
            return any(_same_socket(h, socket) for h in hosts)

        matches = [pid for pid, argv in daemons.items() if listens_here(argv)]
        if len(matches) != 1:
            root = str(info.get("DockerRootDir", ""))
            matches = [pid for pid, argv in daemons.items()
                       if (_arg_values(argv, "--data-root", "-g", "--graph") or ["/var/lib/docker"])[-1] == root]
        if len(matches) != 1 and len(daemons) == 1:
            matches = list(daemons)
        if len(matches) != 1:
            return Skipped(f"{len(daemons)} dockerd processes and none clearly serves {self.url}")
        return DaemonProcess(matches[0], daemons[matches[0]])

    def _container_processes(self, cmdlines: Mapping[int, tuple[str, ...]],
                             running: list[str]) -> dict[str, tuple[str, ...] | Skipped]:
        """Processes per running container, from each process's cgroup (one pass over /proc)."""
        wanted = set(running)
        found: dict[str, list[str]] = {cid: [] for cid in running}
        for pid, argv in cmdlines.items():
            try:
                cgroup = (self._host("/proc") / str(pid) / "cgroup").read_text()
            except OSError:
                continue
            cid = _container_of_cgroup(cgroup, wanted)
            if cid:
                found[cid].append(" ".join(argv))
        return {cid: tuple(procs) if procs else Skipped("no process of the container visible in /proc")
                for cid, procs in found.items()}

    def _audit(self) -> AuditRules | Skipped:
        if self.fs_root == Path("/") and shutil.which("auditctl"):
            try:
                done = subprocess.run(["auditctl", "-l"], capture_output=True, text=True, timeout=10, check=False)
                if done.returncode == 0:
                    return AuditRules("auditctl -l", tuple(_rule_lines(done.stdout)))
                err = done.stderr.strip().splitlines()
                reason = f"auditctl -l failed: {err[0] if err else f'exit status {done.returncode}'}"
            except (OSError, subprocess.SubprocessError) as exc:
                reason = f"auditctl -l failed: {exc}"
        else:
            reason = "auditctl is not installed"
        rules: list[str] = []
        sources: list[str] = []
        files = list(AUDIT_RULE_FILES)
        rules_dir = self._host(AUDIT_RULE_DIR)
        if rules_dir.is_dir():
            files += sorted(f"{AUDIT_RULE_DIR}/{n}" for n in os.listdir(rules_dir) if n.endswith(".rules"))
        for path in files:
            text = self._read_text(path)
            if isinstance(text, str):
                rules += _rule_lines(text)
                sources.append(path)
        if not sources:
            return Skipped(f"{reason}, and no audit rules file is readable")
        return AuditRules(", ".join(sources), tuple(rules))

    def _mounts(self) -> tuple[MountPoint, ...] | Skipped:
        text = self._read_text("/proc/mounts")
        if isinstance(text, Skipped):
            return text
        out = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 4:
                out.append(MountPoint(*(_unescape_mount(p) for p in parts[:4])))
        return tuple(out)

    def _docker_group(self) -> tuple[str, ...] | Skipped:
        text = self._read_text("/etc/group")
        if isinstance(text, Skipped):
            return text
        for line in text.splitlines():
            fields = line.split(":")
            if len(fields) >= 4 and fields[0] == "docker":
                return tuple(m for m in fields[3].split(",") if m)
        return Skipped("no docker group in /etc/group")

    def _environment(self) -> dict[str, str]:
        out = {f"process:{k}": os.environ[k] for k in ENV_KEYS if k in os.environ}
        text = self._read_text("/etc/environment")
        if isinstance(text, str):
            for line in text.splitlines():
                key, sep, value = line.strip().removeprefix("export ").partition("=")
                if sep and key in ENV_KEYS:
                    out[f"/etc/environment:{key}"] = value.strip().strip("'\"")
        return out

    # --- the whole snapshot ---------------------------------------------------------------------

    def collect(self) -> HostSnapshot:
        """Read every fact; :class:`SourceError` when the engine cannot be used at all."""
        try:
            return self._collect()
        finally:
            if self._client is None and self._engine is not None:
                self._engine.close()
                self._engine = None

    def _collect(self) -> HostSnapshot:
        api = self._connect()
        version = self._engine_version(api)
        info = self._api("info", api.info)
        ids = [c["Id"] for c in self._api("the container list", lambda: api.containers(all=True))]
        listed = self._api("the image list", lambda: api.images(all=False))
        # Sequential on purpose: measured, parallel inspects were no faster (the client side dominates).
        inspected = [self._inspect_container(api, cid) for cid in ids]
        found = [self._image(api, i["Id"]) for i in listed]
        containers = [inspect for inspect in inspected if inspect]
        images = [i for i in found if i is not None]
        networks = [self._network(api, n) for n in self._api("the network list", api.networks)]
        swarm: Mapping[str, Any] | Skipped = {}
        nodes: tuple[Mapping[str, Any], ...] | Skipped = ()
        swarm_info = info.get("Swarm") or {}
        if swarm_info.get("LocalNodeState") == "active":
            if swarm_info.get("ControlAvailable"):
                swarm = self._optional("swarm inspect", api.inspect_swarm)
                got = self._optional("node list", api.nodes)
                nodes = got if isinstance(got, Skipped) else tuple(got)
            else:
                swarm = Skipped("this node is a swarm worker: swarm settings are readable on managers only")
                nodes = swarm
        execs: dict[str, tuple[Mapping[str, Any], ...]] = {}
        for c in containers:
            sessions = [self._exec(api, str(e)) for e in (c.get("ExecIDs") or [])]
            execs[c["Id"]] = tuple(e for e in sessions if e is not None)
        running = [c["Id"] for c in containers if (c.get("State") or {}).get("Running")]
        local = self.url.startswith("unix://")
        snapshot = HostSnapshot(
            docker_host=self.url, collected_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            local=local, version=version, info=info, containers=tuple(containers), images=tuple(images),
            networks=tuple(networks), swarm=swarm, nodes=nodes, execs=execs)
        if local:
            return self._with_host_facts(snapshot, running)
        remote = Skipped(f"the engine at {self.url} is remote: host facts are read on its own host "
                         "(run containerguard there)")
        processes = {cid: self._top(api, cid) for cid in running}
        return replace(snapshot, dockerd=remote, audit=remote, mounts=remote, docker_group=remote,
                       registry_certs=remote, processes=processes)

    def _inspect_container(self, api: Any, cid: str) -> dict[str, Any] | None:
        try:
            inspect: dict[str, Any] = api.inspect_container(cid)
            return inspect
        except docker.errors.NotFound:
            return None  # removed between list and inspect: it no longer exists to be assessed
        except docker.errors.APIError as exc:
            if exc.status_code == 404:
                return None
            raise SourceError(f"Docker Engine at {self.url} answered an error to container inspect: "
                              f"{_one_line(exc)}") from exc
        except _api_errors() as exc:
            raise SourceError(f"cannot inspect container {cid[:12]} at {self.url}: {_one_line(exc)}") from exc

    def _image(self, api: Any, image_id: str) -> ImageFacts | None:
        try:
            inspect = api.inspect_image(image_id)
        except docker.errors.NotFound:
            return None
        except _api_errors() as exc:
            raise SourceError(f"cannot inspect image {image_id[:19]} at {self.url}: {_one_line(exc)}") from exc
        history = self._optional("image history", lambda: api.history(image_id))
        return ImageFacts(inspect, history if isinstance(history, Skipped) else tuple(history))

    def _network(self, api: Any, listed: Mapping[str, Any]) -> Mapping[str, Any]:
        # The list omits attached containers; the inspect has them (5.30 needs docker0's members).
        got = self._optional("network inspect", lambda: api.inspect_network(listed["Id"]))
        return listed if isinstance(got, Skipped) else got

    def _exec(self, api: Any, exec_id: str) -> dict[str, Any] | None:
        got = self._optional("exec inspect", lambda: api.exec_inspect(exec_id))
        return got if isinstance(got, dict) else None

    def _top(self, api: Any, cid: str) -> tuple[str, ...] | Skipped:
        got = self._optional("container top", lambda: api.top(cid))
        if isinstance(got, Skipped):
            return got
        titles = got.get("Titles") or []
        column = titles.index("CMD") if "CMD" in titles else (titles.index("COMMAND") if "COMMAND" in titles else -1)
        return tuple(str(p[column]) for p in got.get("Processes") or [] if column >= 0 and len(p) > column)

    def _with_host_facts(self, snapshot: HostSnapshot, running: list[str]) -> HostSnapshot:
        cmdlines = self._proc_cmdlines()
        daemon_json_default = "/etc/docker/daemon.json"
        # The daemon's own view of its config file comes first: we must read what it reads.
        first_guess = self._dockerd(cmdlines, snapshot.info, [])
        argv = first_guess.argv if isinstance(first_guess, DaemonProcess) else ()
        daemon_json = (_arg_values(argv, "--config-file") or [daemon_json_default])[-1]
        config = _json_object(self._read_text(daemon_json))
        dockerd = first_guess
        if isinstance(first_guess, Skipped) and isinstance(config.get("hosts"), list):
            dockerd = self._dockerd(cmdlines, snapshot.info, [str(h) for h in config["hosts"]])
            argv = dockerd.argv if isinstance(dockerd, DaemonProcess) else ()
        paths = self._paths(snapshot, argv, config, daemon_json, dockerd)
        content_roles = {"docker.service", "docker.socket", "daemon.json", "default-docker", "sysconfig-docker",
                         "containerd-config"}
        files: dict[str, HostFile | Skipped] = {}
        for role, path in paths.items():
            if path not in files or role in content_roles:
                files[path] = self._stat_file(path, read_content=role in content_roles)
        certs = self._registry_certs()
        if not isinstance(certs, Skipped):
            for path in certs:
                files[path] = self._stat_file(path)
        return replace(snapshot, paths=paths, files=files, registry_certs=certs, dockerd=dockerd,
                       audit=self._audit(), mounts=self._mounts(), docker_group=self._docker_group(),
                       environment=self._environment(), processes=self._container_processes(cmdlines, running))

    def _paths(self, snapshot: HostSnapshot, argv: tuple[str, ...], config: Mapping[str, Any],
               daemon_json: str, dockerd: DaemonProcess | Skipped) -> dict[str, str]:
        paths = {
            "docker.service": self._systemd_unit("docker.service"),
            "docker.socket": self._systemd_unit("docker.socket"),
            "etc-docker": "/etc/docker",
            "daemon.json": daemon_json,
            "default-docker": "/etc/default/docker",
            "sysconfig-docker": "/etc/sysconfig/docker",
            "containerd-config": "/etc/containerd/config.toml",
            "run-containerd": "/run/containerd",
            "docker-root": str(snapshot.info.get("DockerRootDir") or "/var/lib/docker"),
        }
        if self.url.startswith("unix://"):
            paths["docker.sock"] = self.url[len("unix://"):]
        containerd = (_arg_values(argv, "--containerd") or [str(config.get("containerd") or "")])[-1]
        if not containerd:
            exec_root = (_arg_values(argv, "--exec-root") or [str(config.get("exec-root") or "/var/run/docker")])[-1]
            managed = f"{exec_root}/containerd/containerd.sock"
            containerd = (managed if not self._host("/run/containerd/containerd.sock").exists()
                          and self._host(managed).exists() else "/run/containerd/containerd.sock")
        paths["containerd.sock"] = containerd
        dockerd_bin = "/usr/bin/dockerd"
        if isinstance(dockerd, DaemonProcess):
            try:
                dockerd_bin = os.readlink(self._host(f"/proc/{dockerd.pid}/exe"))
            except OSError:
                dockerd_bin = self._binary("dockerd")
        paths["dockerd"] = dockerd_bin
        for name in BINARIES:
            paths[name] = self._binary(name)
        tls_on = _flag_set(argv, "--tlsverify") or _flag_set(argv, "--tls") or bool(
            config.get("tlsverify") or config.get("tls"))
        for key, default in (("tlscacert", "ca.pem"), ("tlscert", "cert.pem"), ("tlskey", "key.pem")):
            value = (_arg_values(argv, f"--{key}") or [str(config.get(key) or "")])[-1]
            if not value and tls_on:
                value = f"/root/.docker/{default}"  # dockerd's default when TLS is on without paths
            if value:
                paths[key] = value
        return paths

    def _registry_certs(self) -> tuple[str, ...] | Skipped:
        base = self._host("/etc/docker/certs.d")
        if not base.exists():
            return ()
        out: list[str] = []
        try:
            for dirpath, _dirs, names in os.walk(base):
                rel = Path(dirpath).relative_to(self.fs_root)
                out.extend(f"/{rel}/{n}" for n in sorted(names))
        except OSError as exc:
            return Skipped(f"cannot list /etc/docker/certs.d: {exc.strerror}")
        return tuple(sorted(out))


def collect_host(docker_host: str | None = None) -> HostSnapshot:
    """Collect the snapshot of the engine at ``docker_host`` (default ``DOCKER_HOST`` / the local socket)."""
    return HostCollector(docker_host).collect()


# --- small parsers ---------------------------------------------------------------------------------

def _unreachable(exc: BaseException) -> bool:
    """Whether nothing listens at all (as opposed to something that is not Docker answering)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (FileNotFoundError, ConnectionRefusedError, PermissionError, TimeoutError)):
            return True
        if any(isinstance(a, (FileNotFoundError, ConnectionRefusedError, PermissionError)) for a in seen.args):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def _same_socket(host: str, socket: str) -> bool:
    if not socket:
        return False
    if host.startswith("fd://"):
        host = DEFAULT_SOCKET  # systemd socket activation: docker.socket listens on the default path
    if not host.startswith("unix://"):
        return False
    a, b = host[len("unix://"):], socket
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def _container_of_cgroup(cgroup: str, wanted: set[str]) -> str:
    for line in cgroup.splitlines():
        path = line.rsplit(":", 1)[-1]
        for part in path.split("/"):
            token = part.removeprefix("docker-").removesuffix(".scope")
            if len(token) == 64 and token in wanted:
                return token
    return ""


def _rule_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _unescape_mount(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    return (field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            .replace("\\134", "\\"))


def _json_object(text: str | Skipped) -> dict[str, Any]:
    if isinstance(text, Skipped):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
