"""The built-in pack: loads cleanly, every rule carries MITRE tags and a remediation, and replays fire it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from containerguard.cli.detect import builtin_rule_files
from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.loader import load_files
from containerguard.sources.events import docker_jsonl, k8s_audit, process_jsonl
from containerguard.sources.events.base import ReadStats

EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "events"
FALCO = Path(__file__).resolve().parents[2] / "fixtures" / "rules" / "falco_rules.yaml"


@pytest.fixture(scope="module")
def builtin() -> CompiledRules:
    return compile_rules(load_files(builtin_rule_files()))


def test_pack_loads_cleanly_with_tactics_and_remediation(builtin: CompiledRules) -> None:
    assert not builtin.diagnostics, [str(d) for d in builtin.diagnostics]
    assert len(builtin.rules) == 21
    for rule in builtin.rules:
        assert rule.tactic, rule.name
        assert rule.techniques, rule.name
        assert "Remediation:" in rule.desc, rule.name


def _replay(compiled: CompiledRules, reader: object, fixture: str) -> tuple[Counter[str], ReadStats]:
    stats = ReadStats()
    with open(EVENTS / fixture, "rb") as stream:
        alerts = list(Engine(compiled, rule_matching="all").run(reader(stream, stats, fixture)))  # type: ignore[operator]
    return Counter(a.rule for a in alerts), stats


def test_process_replay(builtin: CompiledRules) -> None:
    counts, stats = _replay(builtin, process_jsonl.read_events, "process.jsonl")
    assert (stats.events, stats.skipped) == (9, 2)
    assert counts == Counter({
        "Digital currency mining": 1, "Reverse shell": 1, "Shadow file or kubeconfig read": 1,
        "Download and run a script": 1, "Package manager run in a container": 1, "User added": 1,
    })


def test_process_replay_with_falcos_stock_rules() -> None:
    compiled = compile_rules(load_files([*builtin_rule_files(), FALCO]))
    counts, _ = _replay(compiled, process_jsonl.read_events, "process.jsonl")
    assert counts["Terminal shell in container"] == 1
    assert counts["Digital currency mining"] == 1


def test_docker_replay(builtin: CompiledRules) -> None:
    counts, stats = _replay(builtin, docker_jsonl.read_events, "docker.jsonl")
    assert (stats.events, stats.skipped) == (9, 1)
    assert counts == Counter({"Privileged container created": 1, "Container with sensitive host mount created": 2,
                              "Exec into container": 1})


def test_k8s_replay(builtin: CompiledRules) -> None:
    counts, _ = _replay(builtin, k8s_audit.read_events, "audit.jsonl")
    assert counts == Counter({
        "Privileged container created in a pod": 1, "Pod with sensitive host mount created": 1,
        "Exec or attach into a pod": 1, "New container in kube-system namespace": 1,
        "Role binding to cluster-admin": 1, "New high-privileges role created": 1, "NodePort service created": 1,
    })
