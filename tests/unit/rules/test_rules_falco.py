"""Falco's own rules files load unmodified side by side; replayed audit events fire the rules Falco fires."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.loader import load_files
from containerguard.sources.events import k8s_audit
from containerguard.sources.events.base import ReadStats

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"
FALCO = [FIXTURES / "falco_rules.yaml", FIXTURES / "k8s_audit_rules.yaml"]

# Rules Falco fires on audit.jsonl with its default rule_matching: first (one alert per event at most).
EXPECTED_FIRST = {
    "Attach/Exec Pod": 1, "Create Privileged Pod": 1, "Create Sensitive Mount Pod": 1,
    "ClusterRole With Wildcard Created": 1, "K8s Serviceaccount Created": 1, "Attach to cluster-admin Role": 1,
    "Create NodePort Service": 1, "K8s Secret Get Successfully": 1, "Disallowed K8s User": 1,
    "Pod Created in Kube Namespace": 1, "port-forward": 1, "Create/Modify Configmap With Private Credentials": 1,
    "Create Disallowed Namespace": 1, "Anonymous Request Allowed": 1,
}
# With rule_matching: all, the activity rules behind them fire too.
EXPECTED_ALL = EXPECTED_FIRST | {
    "K8s ClusterRole Created": 1, "K8s ClusterRoleBinding Created": 1, "K8s Service Created": 1,
    "K8s ConfigMap Created": 1, "K8s Namespace Created": 1,
}


@pytest.fixture(scope="module")
def compiled() -> CompiledRules:
    return compile_rules(load_files(FALCO))


def test_both_files_load_without_errors(compiled: CompiledRules) -> None:
    assert not compiled.errors, [str(e) for e in compiled.errors]
    by_source = Counter(r.source for r in compiled.rules)
    assert by_source["k8s_audit"] == 48
    # the exec-only syscall rules run on process events; the rest need fd/ptrace/capability fields
    assert by_source["syscall"] == 9
    assert len(compiled.inactive) == 16
    inactive = {r.name: r.reason for r in compiled.inactive}
    assert "fd.name" in inactive["Read sensitive file untrusted"]
    assert inactive["Drop and execute new binary in container"].startswith("needs proc.is_exe_upper_layer")
    warnings = [str(d) for d in compiled.diagnostics if not d.is_error]
    assert len(warnings) == 16
    assert any(w.startswith(f"{FALCO[0]}:1209: warning: rule 'Disallowed SSH Connection Non Standard Port'")
               for w in warnings)


@pytest.mark.parametrize(("matching", "expected"), [("first", EXPECTED_FIRST), ("all", EXPECTED_ALL)])
@pytest.mark.parametrize("fixture", ["audit.jsonl", "audit_eventlist.jsonl"])
def test_replay_fires_falcos_rules(compiled: CompiledRules, fixture: str, matching: str,
                                   expected: dict[str, int]) -> None:
    engine = Engine(compiled, rule_matching=matching)
    stats = ReadStats()
    with open(FIXTURES / "events" / fixture, "rb") as stream:
        alerts = list(engine.run(k8s_audit.read_events(stream, stats, fixture)))
    assert stats.events == 17 and stats.skipped == 0
    assert Counter(a.rule for a in alerts) == expected


def test_alert_output_and_fields(compiled: CompiledRules) -> None:
    engine = Engine(compiled)
    with open(FIXTURES / "events" / "audit.jsonl", "rb") as stream:
        alerts = {a.rule: a for a in engine.run(k8s_audit.read_events(stream, ReadStats()))}
    exec_alert = alerts["Attach/Exec Pod"]
    assert exec_alert.output == ("10:00:02.456789000: Notice Attach/Exec to pod (user=kubernetes-admin "
                                 "pod=web-7c5ddbdf54-x2v9k resource=pods ns=default action=exec command=sh)")
    assert exec_alert.output_fields["ka.uri.param[command]"] == "sh"
    assert exec_alert.priority == "Notice" and exec_alert.source == "k8s_audit" and exec_alert.tags == ("k8s",)
    priv = alerts["Create Privileged Pod"]
    assert priv.output_fields["ka.req.pod.containers.image"] == "(nginx:1.25)"
    assert alerts["K8s Secret Get Successfully"].priority == "Error"
    anon = alerts["Anonymous Request Allowed"]
    assert anon.output_fields["ka.auth.reason"].startswith("RBAC: allowed by ClusterRoleBinding")


def test_webhook_body_and_bad_input() -> None:
    body = (FIXTURES / "events" / "audit_webhook_body.json").read_bytes()
    stats = ReadStats()
    events = k8s_audit.events_from_body(body, stats)
    assert len(events) == 3 and stats.skipped == 0
    for bad in (b"{", b"[]", b'{"kind":"EventList"}', b'{"kind":"EventList","items":[{"kind":"Event"}]}'):
        stats = ReadStats()
        assert k8s_audit.events_from_body(bad, stats) == []
        assert stats.skipped == 1


def test_huge_and_malformed_lines_are_skipped_and_counted() -> None:
    lines = [b"{broken", b"x" * (5 << 20), b"", b'{"auditID":"1","verb":"get"}', b'"text"']
    stats = ReadStats()
    events = list(k8s_audit.read_events(lines, stats, "t"))
    assert len(events) == 1 and stats.skipped == 3
    assert stats.reasons[1].startswith("t:2: line longer than")


def test_hostile_values_do_not_crash_the_engine(compiled: CompiledRules) -> None:
    engine = Engine(compiled, rule_matching="all")
    stats = ReadStats()
    weird = [b'{"auditID":"1","stage":"ResponseComplete","verb":"create","objectRef":{"resource":"pods"},'
             b'"requestObject":{"spec":{"containers":"nope","volumes":[1,null,{"hostPath":7}]}},'
             b'"user":{"username":42},"responseStatus":{"code":"2xx"},"requestURI":7}']
    alerts = list(engine.run(k8s_audit.read_events(weird, stats)))
    assert stats.events == 1
    assert {a.rule for a in alerts} <= {"Disallowed K8s User", "Create Disallowed Pod"}
