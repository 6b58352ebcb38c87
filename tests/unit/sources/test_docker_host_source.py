"""The Docker host collector: host files from a fake root, /proc parsing, and engines that are not Docker."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from containerguard.errors import SourceError
from containerguard.models.snapshot import DaemonProcess, HostFile, Skipped
from containerguard.sources.docker_host import HostCollector

CID = "ab" * 32


class FakeApi:
    """Just enough of docker.APIClient for the collector."""

    def version(self) -> dict[str, Any]:
        return {"Version": "24.0.7", "ApiVersion": "1.43"}

    def info(self) -> dict[str, Any]:
        return {"Name": "h", "DockerRootDir": "/var/lib/docker", "Swarm": {"LocalNodeState": "inactive"}}

    def containers(self, all: bool = False) -> list[dict[str, Any]]:
        return [{"Id": CID}]

    def inspect_container(self, cid: str) -> dict[str, Any]:
        return {"Id": cid, "Name": "/web", "State": {"Running": True}, "ExecIDs": ["e1"]}

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {"ID": exec_id, "Privileged": False}

    def images(self, all: bool = False) -> list[dict[str, Any]]:
        return [{"Id": "sha256:" + "1" * 64}]

    def inspect_image(self, image_id: str) -> dict[str, Any]:
        return {"Id": image_id, "RepoTags": ["web:1"]}

    def history(self, image_id: str) -> list[dict[str, Any]]:
        raise docker.errors.APIError("history unavailable")

    def top(self, cid: str) -> dict[str, Any]:
        return {"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
                "Processes": [["root", "1", "0", "0", "10:00", "?", "00:00:00", "nginx: master"]]}

    def networks(self) -> list[dict[str, Any]]:
        return [{"Id": "n1", "Name": "bridge"}]

    def inspect_network(self, net_id: str) -> dict[str, Any]:
        return {"Id": net_id, "Name": "bridge", "Containers": {CID: {}}}


class FakeClient:
    def __init__(self) -> None:
        self.api = FakeApi()


def write(root: Path, path: str, text: str = "", mode: int = 0o644) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    write(tmp_path, "/etc/docker/daemon.json", '{"live-restore": true}', 0o666)
    write(tmp_path, "/etc/group", "root:x:0:\ndocker:x:998:alice,bob\n")
    write(tmp_path, "/etc/environment", 'DOCKER_CONTENT_TRUST="1"\n')
    write(tmp_path, "/lib/systemd/system/docker.service", "[Service]\n")
    write(tmp_path, "/etc/audit/audit.rules", "# comment\n-w /usr/bin/dockerd -k docker\n")
    write(tmp_path, "/etc/docker/certs.d/reg.example.com/ca.crt", "CERT", 0o444)
    write(tmp_path, "/proc/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib/docker xfs rw 0 0\n")
    write(tmp_path, "/proc/812/cmdline", "/usr/bin/dockerd\0-H\0fd://\0--iptables=false\0")
    write(tmp_path, "/proc/812/cgroup", "0::/system.slice/docker.service\n")
    write(tmp_path, "/proc/900/cmdline", "/usr/sbin/sshd\0-D\0")
    write(tmp_path, "/proc/900/cgroup", f"0::/system.slice/docker-{CID}.scope\n")
    write(tmp_path, "/proc/901/cmdline", "nginx: worker\0")
    write(tmp_path, "/proc/901/cgroup", f"12:pids:/docker/{CID}\n")
    return tmp_path


def test_collects_host_facts(fake_root: Path) -> None:
    s = HostCollector("unix:///var/run/docker.sock", fs_root=fake_root, client=FakeClient()).collect()
    assert s.local
    assert s.dockerd == DaemonProcess(812, ("/usr/bin/dockerd", "-H", "fd://", "--iptables=false"))
    daemon_json = s.files["/etc/docker/daemon.json"]
    assert isinstance(daemon_json, HostFile)
    assert daemon_json.mode == 0o666 and daemon_json.content == '{"live-restore": true}'
    assert s.files["/etc/sysconfig/docker"] == HostFile("/etc/sysconfig/docker", "missing")
    assert s.paths["docker.service"] == "/lib/systemd/system/docker.service"
    assert s.docker_group == ("alice", "bob")
    assert s.environment == {"/etc/environment:DOCKER_CONTENT_TRUST": "1"}
    assert not isinstance(s.audit, Skipped) and s.audit.rules == ("-w /usr/bin/dockerd -k docker",)
    assert not isinstance(s.mounts, Skipped) and [m.mountpoint for m in s.mounts] == ["/", "/var/lib/docker"]
    assert s.registry_certs == ("/etc/docker/certs.d/reg.example.com/ca.crt",)
    procs = s.processes[CID]
    assert not isinstance(procs, Skipped) and sorted(procs) == ["/usr/sbin/sshd -D", "nginx: worker"]
    assert s.execs[CID] == ({"ID": "e1", "Privileged": False},)
    assert isinstance(s.images[0].history, Skipped)
    assert s.networks[0]["Containers"] == {CID: {}}


def test_unreadable_file_is_skipped_data(fake_root: Path) -> None:
    (fake_root / "etc/docker/daemon.json").chmod(0)

    def collect() -> bool:
        s = HostCollector("unix:///var/run/docker.sock", fs_root=root, client=FakeClient()).collect()
        return isinstance(s.files["/etc/docker/daemon.json"], Skipped)

    if os.geteuid() != 0:
        root = fake_root
        assert collect()
        return
    # Root reads any file: the collection runs in a child that dropped to nobody, on a copy of the
    # fake root that nobody may traverse (pytest's own tmp tree is 0700).
    with tempfile.TemporaryDirectory() as parent:
        os.chmod(parent, 0o755)
        root = Path(shutil.copytree(fake_root, Path(parent) / "root", symlinks=True))
        root.chmod(0o755)  # copied from pytest's 0700 tmp_path
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 2
            try:
                os.setgid(65534)
                os.setuid(65534)
                code = 0 if collect() else 1
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unreadable daemon.json was not recorded as Skipped"


def test_no_dockerd_and_no_audit(tmp_path: Path) -> None:
    s = HostCollector("unix:///var/run/docker.sock", fs_root=tmp_path, client=FakeClient()).collect()
    assert isinstance(s.dockerd, Skipped) and "no dockerd process" in s.dockerd.reason
    assert isinstance(s.audit, Skipped)
    assert isinstance(s.mounts, Skipped)


def test_remote_engine_skips_host_facts(fake_root: Path) -> None:
    s = HostCollector("tcp://10.0.0.9:2376", fs_root=fake_root, client=FakeClient()).collect()
    assert not s.local and s.files == {}
    assert isinstance(s.dockerd, Skipped) and "remote" in s.dockerd.reason
    assert s.processes == {CID: ("nginx: master",)}  # from the engine's top, not this machine's /proc


@contextmanager
def serve(path: Path, answer: bytes) -> Iterator[None]:
    """A unix socket server answering every request with ``answer``."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(8)
    stop = threading.Event()

    def loop() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        server.close()


NOT_DOCKER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"
              b"<html></html>")
SSH_BANNER = b"SSH-2.0-OpenSSH_9.2\r\n"
ERROR_500 = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 26\r\n"
             b"Connection: close\r\n\r\n{\"message\":\"engine broke\"}")


@pytest.mark.parametrize(("answer", "message"), [
    (NOT_DOCKER, "did not answer as a Docker Engine"),
    (SSH_BANNER, "did not answer as a Docker Engine"),
    (ERROR_500, "did not answer as a Docker Engine: 500 Server Error"),
])
def test_not_docker_or_failing_engine(tmp_path: Path, answer: bytes, message: str) -> None:
    sock = tmp_path / "x.sock"
    with serve(sock, answer), pytest.raises(SourceError, match=message) as err:
        HostCollector(f"unix://{sock}", fs_root=tmp_path, timeout=5).collect()
    assert "\n" not in str(err.value)
