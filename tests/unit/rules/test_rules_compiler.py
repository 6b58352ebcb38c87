"""Compiled conditions: every operator and transformer, Falco's missing-field semantics, list fields."""

from __future__ import annotations

from typing import Any

import pytest

from containerguard.rules.compiler import compile_rules
from containerguard.rules.loader import Loader
from containerguard.rules.model import Event
from containerguard.sources.events import process_jsonl

AUDIT: dict[str, Any] = {
    "kind": "Event", "auditID": "a1", "stage": "ResponseComplete", "verb": "create",
    "requestURI": "/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&container=app",
    "user": {"username": "Alice", "groups": ["dev", "system:authenticated"]},
    "objectRef": {"resource": "pods", "namespace": "default", "name": "web"},
    "responseStatus": {"code": 201},
    "requestObject": {"spec": {
        "hostNetwork": True,
        "containers": [
            {"name": "a", "image": "nginx:1.25", "securityContext": {"privileged": True}},
            {"name": "b", "image": "registry.local:5000/team/tool@sha256:abcd"},
        ],
        "volumes": [{"name": "c", "configMap": {"name": "x"}}, {"name": "d", "hostPath": {"path": "/etc/ssl"}}],
    }},
    "annotations": {"authorization.k8s.io/decision": "allow", "note": "c2VjcmV0"},
    "stageTimestamp": "2024-05-01T10:00:00.123456Z",
}

PROCESS = process_jsonl.normalize({
    "pid": 10, "comm": "bash", "args": ["bash", "-c", "id"], "exepath": "/usr/bin/bash", "tty": 34816, "uid": 0,
    "user": "root", "cwd": "/var/www", "time": 1_000_000_000,
    "ancestors": [{"pid": 9, "comm": "nginx", "exepath": "/usr/sbin/nginx"}, {"pid": 1, "comm": "containerd-shim"}],
    "container": {"id": "abcdef0123456789", "name": "web", "image": "nginx:1.25", "privileged": True},
})


def _matches(condition: str, source: str = "k8s_audit", data: Any = None) -> bool:
    loader = Loader()
    loader.load_text(f"- rule: r\n  desc: d\n  condition: '{condition}'\n  output: o\n  priority: INFO\n"
                     f"  source: {source}\n", "t.yaml")
    compiled = compile_rules(loader.rs)
    assert not compiled.errors, compiled.errors
    assert len(compiled.rules) == 1, compiled.diagnostics
    event = Event(source, AUDIT if data is None else data)
    return compiled.rules[0].condition(event)


@pytest.mark.parametrize(("condition", "expected"), [
    ("ka.verb = create", True), ("ka.verb == create", True), ("ka.verb = get", False),
    ("ka.verb != get", True), ("ka.verb != create", False),
    ("ka.response.code < 300", True), ("ka.response.code <= 201", True), ("ka.response.code > 201", False),
    ("ka.response.code >= 200", True),
    ("ka.uri contains exec", True), ("ka.uri contains EXEC", False), ("ka.uri icontains EXEC", True),
    ("ka.uri bcontains 65786563", True), ("ka.uri bstartswith 2f617069", True),
    ("ka.uri startswith /api/", True), ("ka.uri endswith app", True), ("ka.uri endswith nope", False),
    ("ka.uri glob /api/*/pods/*", True), ("ka.uri glob /apis/*", False), ("ka.uri iglob /API/*", True),
    ("ka.target.name regex w.b", True), ("ka.target.name regex e", False),
    ("ka.target.name pmatch (/x, web)", True),
    ("ka.verb in (get, create)", True), ("ka.verb in (get, list)", False),
    ("ka.verb intersects (create)", True),
    ("ka.target.subresource exists", False), ("not ka.target.subresource exists", True),
    ("ka.target.namespace exists", True),
    # missing fields: every comparison is false, even !=
    ("ka.target.subresource != exec", False), ("ka.target.subresource = exec", False),
    # list fields: in = all values in the set, intersects = any
    # the plugin cuts the repository at the first ':' (so a registry port is lost), as Falco does
    ("ka.req.pod.containers.image.repository in (nginx, registry.local)", True),
    ("ka.req.pod.containers.image.repository in (nginx)", False),
    ("ka.req.pod.containers.image.repository intersects (nginx, other)", True),
    ("ka.req.pod.containers.image[1] = registry.local:5000/team/tool@sha256:abcd", True),
    ("ka.req.pod.containers.image[0] = registry.local:5000/team/tool@sha256:abcd", False),
    ("ka.req.pod.containers.image[5] exists", False),
    ("ka.req.pod.containers.privileged intersects (true)", True),
    ("ka.req.pod.volumes.hostpath intersects (/etc/ssl)", True),
    ("ka.req.pod.volumes.hostpath pmatch (/etc)", True),
    ("ka.req.pod.volumes.volume_type intersects (configMap)", True),
    ("ka.req.volume.hostpath[/etc*] = true", True),
    ("ka.req.pod.host_network = true", True),
    ("ka.user.groups intersects (dev)", True),
    ("ka.uri.param[command] = sh", True), ("ka.uri.param[container] = app", True),
    ("ka.uri.param[tty] exists", False),
    ("jevt.value[/requestObject/spec/containers/0/name] = a", True),
    ("jevt.value[/objectRef/resource] = pods", True),
    ("jevt.rawtime = 1714557600123456000", True),
    # transformers
    ("tolower(ka.user.name) = alice", True), ("toupper(ka.verb) = CREATE", True),
    ("b64(jevt.value[/annotations/note]) = secret", True), ("basename(ka.uri) startswith exec?", True),
    ("len(ka.verb) = 6", True), ("len(ka.req.pod.containers.image) = 2", True),
    ("tolower(ka.req.pod.containers.image.repository) intersects (nginx)", True),
    ("ka.req.configmap.name = val(ka.target.name)", True), ("ka.verb = val(ka.target.name)", False),
    ("tolower(ka.user.name) = tolower(val(ka.user.name))", True),
    # logic
    ("ka.verb = create and not ka.verb = get", True), ("ka.verb = get or ka.verb = create", True),
    ("(ka.verb = get or ka.verb = list) and ka.user.name exists", False),
])
def test_k8s_operators(condition: str, expected: bool) -> None:
    assert _matches(condition) is expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("proc.name = bash and evt.type = execve and evt.dir = <", True),
    ("proc.tty != 0", True), ("proc.tty = 34816", True), ("user.uid = 0", True), ("user.uid > 0", False),
    ("proc.pname = nginx", True), ("proc.aname[1] = nginx", True), ("proc.aname[0] = bash", True),
    ("proc.aname[2] = containerd-shim", True), ("proc.aname[3] exists", False),
    ("proc.aname in (nginx)", True), ("proc.aname = containerd-shim", True), ("proc.aname in (sshd)", False),
    ("proc.cmdline = \"bash -c id\"", True), ("proc.args = \"-c id\"", True), ("proc.exe = bash", True),
    ("proc.exepath = /usr/bin/bash", True), ("proc.pexepath = /usr/sbin/nginx", True),
    ("proc.cwd pmatch (/var)", True), ("proc.cwd pmatch (/va)", False), ("proc.cwd pmatch (/v*/www)", True),
    ("container.id = abcdef012345", True), ("container.privileged = true", True),
    ("container.image.repository = nginx and container.image.tag = 1.25", True),
    ("basename(proc.exepath) = bash", True),
])
def test_process_fields(condition: str, expected: bool) -> None:
    assert _matches(condition, "syscall", PROCESS) is expected


def test_host_process_container_id_is_host() -> None:
    data = process_jsonl.normalize({"pid": 1, "comm": "sshd"})
    assert _matches("container.id = host and not container.image exists", "syscall", data)


@pytest.mark.parametrize(("condition", "error"), [
    ("ka.uri.param exists", "needs an argument"),
    ("ka.verb[1] = x", "takes no argument"),
    ("ka.req.pod.containers.image[x] exists", "numeric index"),
    ("jevt.rawtime = abc", "not a number"),
    ("ka.uri regex \"(\"", "bad regex"),
    ("ka.uri bcontains zz", "hex bytes"),
    ("nomacro and ka.verb = x", "undefined macro 'nomacro'"),
])
def test_compile_errors(condition: str, error: str) -> None:
    loader = Loader()
    loader.load_text(f"- rule: r\n  desc: d\n  condition: '{condition}'\n  output: o\n  priority: INFO\n"
                     "  source: k8s_audit\n", "t.yaml")
    compiled = compile_rules(loader.rs)
    assert not compiled.rules
    assert [str(d) for d in compiled.errors] == [f"t.yaml:1: error: rule 'r': {error}"] or \
        error in str(compiled.errors[0])


def test_index_sets_follow_and_or_not() -> None:
    loader = Loader()
    loader.load_text(
        "- rule: a\n  desc: d\n  condition: ka.verb in (create, get) and ka.verb = get\n  output: o\n"
        "  priority: INFO\n  source: k8s_audit\n"
        "- rule: b\n  desc: d\n  condition: ka.verb = get or ka.verb = list\n  output: o\n"
        "  priority: INFO\n  source: k8s_audit\n"
        "- rule: c\n  desc: d\n  condition: not ka.verb = get\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
        "t.yaml")
    rules = {r.name: r.index[0] for r in compile_rules(loader.rs).rules}
    assert rules == {"a": frozenset({"get"}), "b": frozenset({"get", "list"}), "c": None}
