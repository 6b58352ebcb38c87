"""The process-events connector's wire format and the /proc snapshot, on crafted bytes and a fake /proc."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from containerguard.sources.events import process_jsonl
from containerguard.sources.events.proc_connector import (
    CN_IDX_PROC,
    CN_VAL_PROC,
    PROC_CN_MCAST_LISTEN,
    PROC_EVENT_EXEC,
    PROC_EVENT_EXIT,
    PROC_EVENT_FORK,
    ProcMessage,
    container_id_of,
    listen_message,
    parse_messages,
    snapshot,
)

CID = "24f915117feeee3964fb8308c081f3b0cd65287a69eb3033683a2218910c76c6"


def netlink(what: int, data: bytes) -> bytes:
    """One kernel datagram as connector.c sends it: nlmsghdr, cn_msg, proc_event."""
    event = struct.pack("=IIQ", what, 3, 123456789) + data
    cn = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, 7, 0, len(event), 0) + event
    msg = struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, 0) + cn
    return msg + b"\0" * (-len(msg) % 4)


def test_listen_message_is_what_the_kernel_expects() -> None:
    msg = listen_message()
    length, mtype, _flags, _seq, pid = struct.unpack_from("=IHHII", msg)
    assert (length, mtype, pid) == (len(msg), 3, os.getpid())
    idx, val, _seq, _ack, size, _f = struct.unpack_from("=IIIIHH", msg, 16)
    assert (idx, val, size) == (CN_IDX_PROC, CN_VAL_PROC, 4)
    assert struct.unpack_from("=I", msg, 36) == (PROC_CN_MCAST_LISTEN,)


@pytest.mark.parametrize(("datagram", "expected"), [
    (netlink(PROC_EVENT_EXEC, struct.pack("=II", 4242, 4242)), [ProcMessage(PROC_EVENT_EXEC, 4242, 4242)]),
    (netlink(PROC_EVENT_EXIT, struct.pack("=IIII", 7, 7, 0, 17)), [ProcMessage(PROC_EVENT_EXIT, 7, 7)]),
    # fork: parent pid/tgid then child pid/tgid: the child is reported
    (netlink(PROC_EVENT_FORK, struct.pack("=IIII", 1, 1, 99, 99)), [ProcMessage(PROC_EVENT_FORK, 99, 99)]),
    (netlink(PROC_EVENT_EXEC, struct.pack("=II", 5, 5)) + netlink(PROC_EVENT_EXEC, struct.pack("=II", 6, 5)),
     [ProcMessage(PROC_EVENT_EXEC, 5, 5), ProcMessage(PROC_EVENT_EXEC, 6, 5)]),
    (netlink(PROC_EVENT_EXEC, struct.pack("=II", 5, 5))[:30], []),  # truncated: nothing, no exception
    (b"", []),
    (b"\xff" * 64, []),  # a length field past the buffer
])
def test_parse_messages(datagram: bytes, expected: list[ProcMessage]) -> None:
    assert list(parse_messages(datagram)) == expected


@pytest.mark.parametrize(("cgroup", "cid"), [
    (f"0::/docker/{CID}\n", CID),
    (f"12:pids:/docker/{CID}\n1:name=systemd:/docker/{CID}\n", CID),
    (f"0::/system.slice/docker-{CID}.scope\n", CID),
    (f"0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-{CID}.scope\n", CID),
    ("0::/user.slice/user-0.slice/session-1.scope\n", None),
    ("0::/\n", None),
])
def test_container_id_from_cgroup(cgroup: str, cid: str | None) -> None:
    assert container_id_of(cgroup) == cid


def fake_proc(root: Path, pid: int, ppid: int, comm: str, argv: list[str], exe: str, cgroup: str = "0::/\n",
              uid: int = 0) -> None:
    d = root / str(pid)
    (d / "fd").mkdir(parents=True)
    (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
    (d / "comm").write_text(comm + "\n")
    (d / "status").write_text(f"Name:\t{comm}\nPid:\t{pid}\nPPid:\t{ppid}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
                              f"Gid:\t0\t0\t0\t0\nNSpid:\t{pid}\t{pid - 1000}\n")
    (d / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {ppid} 34816 0 0 0\n")
    (d / "cgroup").write_text(cgroup)
    (d / "exe").symlink_to(exe)
    (d / "cwd").symlink_to("/root")
    (d / "fd" / "0").symlink_to("pipe:[123]")
    (d / "fd" / "1").symlink_to("/dev/pts/0")


def test_snapshot_builds_the_replay_record(tmp_path: Path) -> None:
    fake_proc(tmp_path, 1200, 1100, "bash", ["bash"], "/usr/bin/bash", f"0::/docker/{CID}\n")
    fake_proc(tmp_path, 1100, 0, "containerd-shim", ["containerd-shim", "-id", "x"], "/usr/bin/containerd-shim")
    fake_proc(tmp_path, 1300, 1200, "cat", ["cat", "/etc/shadow"], "/usr/bin/cat", f"0::/docker/{CID}\n", uid=33)
    rec = snapshot(1300, str(tmp_path))
    assert rec is not None
    assert rec["args"] == ["cat", "/etc/shadow"] and rec["exepath"] == "/usr/bin/cat" and rec["comm"] == "cat"
    assert (rec["ppid"], rec["sid"], rec["tty"], rec["vpid"], rec["uid"]) == (1200, 1200, 34816, 300, 33)
    assert (rec["stdin_type"], rec["stdout_type"], rec["stderr_type"]) == ("pipe", "tty", None)
    assert rec["container"] == {"id": CID}
    assert [a["comm"] for a in rec["ancestors"]] == ["bash", "containerd-shim"]
    data = process_jsonl.normalize(rec)
    assert data is not None and data["container"]["id"] == CID[:12] and data["ancestors"][0]["pid"] == 1200


def test_snapshot_of_a_vanished_process_is_none(tmp_path: Path) -> None:
    assert snapshot(4321, str(tmp_path)) is None


def test_snapshot_of_a_zombie_keeps_the_name(tmp_path: Path) -> None:
    # an exited, unreaped process: cmdline empty and exe unreadable, status and comm still there
    fake_proc(tmp_path, 50, 1, "cat", [], "/nonexistent")
    (tmp_path / "50" / "exe").unlink()
    rec = snapshot(50, str(tmp_path))
    assert rec is not None and rec["args"] == [] and rec["exepath"] is None
    ev = process_jsonl.event(rec)
    assert ev is not None and ev.data["comm"] == "cat"


@pytest.mark.skipif(os.geteuid() != 0, reason="the process-events connector needs root")
def test_the_live_connector_sees_an_exec() -> None:
    import subprocess
    import time

    from containerguard.rules.model import Event
    from containerguard.sources.events.proc_connector import ProcessWatcher

    seen: list[Event] = []
    watcher = ProcessWatcher(seen.append, containers=lambda _cid: None, scan_existing=False)
    with watcher:
        assert watcher.stats.mode == "netlink"
        marker = f"cg-marker-{os.getpid()}"
        subprocess.run(["sh", "-c", f"sleep 0.05; : {marker}"], check=True)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not any(marker in " ".join(e.data["args"]) for e in seen):
            time.sleep(0.01)
    hits = [e for e in seen if marker in " ".join(e.data["args"])]
    assert hits and hits[0].data["comm"] == "sh" and hits[0].data["container"] is None
    assert hits[0].data["ancestors"][0]["pid"] == os.getpid()


class FakeApi:
    def __init__(self) -> None:
        self.inspected: list[str] = []

    def inspect_container(self, cid: str) -> dict[str, object]:
        self.inspected.append(cid)
        if cid == "gone":
            raise RuntimeError("No such container")
        return {"Id": cid, "HostConfig": {"Privileged": True}}


@pytest.mark.parametrize(("msg", "inspected"), [
    ({"Type": "container", "Action": "create", "Actor": {"ID": "abc"}}, True),
    ({"Type": "container", "Action": "start", "Actor": {"ID": "abc"}}, True),
    ({"Type": "container", "Action": "exec_start: sh -c id", "Actor": {"ID": "abc"}}, False),
    ({"Type": "image", "Action": "pull", "Actor": {"ID": "nginx:1.25"}}, False),
    ({"Type": "container", "Action": "start", "Actor": {"ID": "gone"}}, False),
])
def test_docker_stream_attaches_inspect_to_create_and_start(msg: dict[str, object], inspected: bool) -> None:
    from containerguard.sources.events.docker_stream import enrich

    out = enrich(FakeApi(), msg)
    assert ("inspect" in out) is inspected
    assert {k: v for k, v in out.items() if k != "inspect"} == msg
