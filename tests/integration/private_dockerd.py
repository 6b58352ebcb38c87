"""A throwaway dockerd of the test's own, beside the shared one, for tests that need another daemon setup.

Everything it writes lives under one directory of its own (``--data-root``, ``--exec-root``,
``--pidfile``, the unix socket, ``daemon.json`` given with ``--config-file``, the log), so nothing is
shared with the shared test daemon (scripts/test-env.sh). It always runs with the flags this sandbox
needs (vfs, no iptables, no default bridge; see DESIGN.md).

That directory is a short one directly under /tmp, not pytest's tmp dir: unix socket paths must fit in
108 bytes (containerd adds its own suffixes under the exec root), and with ``userns-remap`` dockerd
refuses a data root whose parents the remapped root cannot traverse — pytest keeps its tmp root 0700
(and re-tightens it every session), while this directory is made 0711.

    daemon = start_dockerd(new_home(), {"live-restore": True})
    try:
        ...  # talk to daemon.url
    finally:
        stop_dockerd(daemon)  # also removes the directory

:class:`AllowAllAuthz` is a minimal authorization plugin (the legacy plugin protocol over a unix socket
in /run/docker/plugins, where dockerd discovers plugins) that allows every request and counts them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any

SANDBOX_FLAGS = ("--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none")
"""What dockerd needs to start in this sandbox (no iptables, no bridge; overlayfs is not available)."""
MAX_SOCKET_PATH = 100
"""A unix socket path must fit sockaddr_un (108 bytes); containerd adds suffixes under the exec root."""
PLUGIN_DIR = Path("/run/docker/plugins")
"""Where dockerd discovers legacy plugins' sockets (fixed in the engine)."""


class DockerdError(RuntimeError):
    """The private dockerd did not come up; the message ends with its log's last lines."""


@dataclass
class Dockerd:
    """A running private dockerd."""

    process: subprocess.Popen[bytes]
    home: Path
    config: Path

    @property
    def socket(self) -> Path:
        """The daemon's unix socket."""
        return self.home / "d.sock"

    @property
    def url(self) -> str:
        """``unix://`` URL for ``--docker-host``."""
        return f"unix://{self.socket}"

    @property
    def exec_root(self) -> Path:
        """``--exec-root``: containerd started by this daemon names it in its command line."""
        return self.home / "exec"

    @property
    def log(self) -> Path:
        """dockerd's stdout and stderr."""
        return self.home / "dockerd.log"


def _ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(str(sock))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return conn.recv(64).split(b" ", 2)[1:2] == [b"200"]
    except OSError:
        return False


def log_tail(daemon: Dockerd, lines: int = 8) -> str:
    """The last lines of the daemon's log that are not ``level=info`` chatter."""
    try:
        text = daemon.log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join([ln for ln in text.splitlines() if "level=info" not in ln][-lines:])


def write_config(path: Path, config: dict[str, Any], mode: int = 0o644) -> None:
    """``daemon.json`` with ``mode`` (set explicitly: the umask must not decide what 3.18 sees)."""
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.chmod(path, mode)


def new_home() -> Path:
    """A fresh, short, traversable (0711) directory for one private daemon."""
    home = Path(tempfile.mkdtemp(prefix="cgd-", dir="/tmp"))
    os.chmod(home, 0o711)
    return home


def launch_dockerd(home: Path, config: dict[str, Any]) -> Dockerd:
    """Start dockerd with ``config`` as its ``--config-file``; does not wait for it."""
    daemon_json = home / "daemon.json"
    write_config(daemon_json, config)
    sock = home / "d.sock"
    if len(str(home / "exec" / "containerd" / "containerd.sock.ttrpc")) > MAX_SOCKET_PATH:
        raise DockerdError(f"{home} is too long a directory for the daemon's unix sockets")
    argv = ["dockerd", f"--config-file={daemon_json}", *SANDBOX_FLAGS, f"--host=unix://{sock}",
            f"--data-root={home / 'root'}", f"--exec-root={home / 'exec'}", f"--pidfile={home / 'd.pid'}"]
    with open(home / "dockerd.log", "wb") as log:
        # Its own session: a ^C to pytest must not reach the daemon before the finalizer stops it.
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    return Dockerd(process, home, daemon_json)


def start_dockerd(home: Path, config: dict[str, Any], timeout: float = 120) -> Dockerd:
    """Start dockerd and wait until it answers ``/_ping``; :class:`DockerdError` (daemon stopped) if not."""
    daemon = launch_dockerd(home, config)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ping(daemon.socket):
            return daemon
        if daemon.process.poll() is not None:
            reason = f"dockerd exited with status {daemon.process.returncode}:\n{log_tail(daemon)}"
            stop_dockerd(daemon)
            raise DockerdError(reason)
        time.sleep(0.5)
    reason = f"dockerd did not answer within {timeout:.0f}s:\n{log_tail(daemon)}"
    stop_dockerd(daemon)
    raise DockerdError(reason)


def _processes_naming(marker: str) -> list[int]:
    """Pids of dockerd/containerd processes whose command line names ``marker`` (a directory we own)."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # ended meanwhile
        program = os.path.basename(argv[0].decode(errors="replace"))
        if program.startswith(("containerd", "dockerd")) and marker.encode() in b" ".join(argv):
            found.append(int(entry))
    return found


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, sig)


def stop_dockerd(daemon: Dockerd, grace: float = 30, remove: bool = True) -> None:
    """SIGTERM, wait, SIGKILL; the same for any containerd it left (found by its exec root); rm its home."""
    if daemon.process.poll() is None:
        daemon.process.send_signal(signal.SIGTERM)
        try:
            daemon.process.wait(grace)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait(10)
    # With live-restore (or a killed dockerd) the containerd it supervised keeps running and would
    # hold its metadata lock; only processes naming our own exec root are touched.
    marker = f"{daemon.exec_root}/"
    left = _processes_naming(marker)
    _signal_all(left, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _processes_naming(marker)
    _signal_all(left, signal.SIGKILL)
    if remove:
        _unmount_under(daemon.home)
        shutil.rmtree(daemon.home, ignore_errors=True)


def _unmount_under(home: Path) -> None:
    """Unmount what the daemon left mounted under ``home``, deepest first.

    dockerd bind-mounts its data root onto itself; one that dies during start-up leaves it mounted.
    """
    for _ in range(5):  # a path can be mounted more than once
        points = _mounts_under(home)
        if not points:
            return
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", point], capture_output=True, timeout=30, check=False)


def _mounts_under(home: Path) -> set[str]:
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return set()
    points = (fields[1].replace("\\040", " ") for fields in (ln.split() for ln in lines) if len(fields) > 1)
    return {p for p in points if p.startswith(f"{home}/")}


class _AuthzHandler(BaseHTTPRequestHandler):
    """The three calls of Docker's authorization plugin protocol; everything is allowed."""

    protocol_version = "HTTP/1.1"
    server: _AuthzServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/Plugin.Activate":
            answer: dict[str, Any] = {"Implements": ["authz"]}
        elif self.path in ("/AuthZPlugin.AuthZReq", "/AuthZPlugin.AuthZRes"):
            answer = {"Allow": True}
            if self.path.endswith("Req"):
                with self.server.lock:
                    self.server.requests += 1
        else:
            answer = {"Err": f"unknown call {self.path}"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the daemon calls it once per API request."""


class _AuthzServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str) -> None:
        super().__init__(path, _AuthzHandler)
        self.lock = threading.Lock()
        self.requests = 0


class AllowAllAuthz:
    """An authorization plugin that allows everything, listening while the ``with`` block runs."""

    def __init__(self) -> None:
        self.name = f"cg-authz-{uuid.uuid4().hex[:8]}"
        self.socket = PLUGIN_DIR / f"{self.name}.sock"
        self._server: _AuthzServer | None = None

    @property
    def requests(self) -> int:
        """Requests the daemon asked the plugin to authorize."""
        return self._server.requests if self._server else 0

    def __enter__(self) -> AllowAllAuthz:
        PLUGIN_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._server = _AuthzServer(str(self.socket))
        threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.socket.unlink(missing_ok=True)
