"""CIS Kubernetes Benchmark 1.8 control-plane controls (1.2-1.4, 2) on the flags of static pods.

The kubeadm 1.29 manifests must give, control by control, the state kube-bench reports on a kubeadm
cluster (PASS, FAIL, or WARN for an unscored Manual control that fails); a hardened variant passes
everything; a ``kubectl get pods -n kube-system -o json`` dump of the same cluster gives the same
results on the mirror pods; and the flag reader copes with the forms pod specs use."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from containerguard.checks.k8s._control_plane import (
    ControlPlaneCheck,
    command_line,
    component_of,
    kube_bench_state,
    parse_flags,
)
from containerguard.models.k8s import FAIL, PASS, K8sCollected
from containerguard.pipeline.k8s_audit import audit, k8s_checks
from containerguard.sources.k8s_manifests import parse_text, read_paths

ROOT = Path(__file__).parents[4]
STATIC = ROOT / "tests/fixtures/k8s/static-pods"

# What kube-bench (cfg/cis-1.8) reports for a cluster kubeadm 1.29 set up with its defaults. The same
# outcome its kind (kubeadm) integration run records under the older numbering: kubelet CA, profiling
# and the four audit-log flags FAIL; anonymous auth, EventRateLimit, AlwaysPullImages,
# SecurityContextDeny, encryption, ciphers and the pod GC threshold WARN.
KUBEADM_STATES = {
    "1.2.1": "WARN", "1.2.2": "PASS", "1.2.3": "WARN", "1.2.4": "PASS", "1.2.5": "FAIL", "1.2.6": "PASS",
    "1.2.7": "PASS", "1.2.8": "PASS", "1.2.9": "WARN", "1.2.10": "PASS", "1.2.11": "WARN", "1.2.12": "WARN",
    "1.2.13": "PASS", "1.2.14": "PASS", "1.2.15": "PASS", "1.2.16": "FAIL", "1.2.17": "FAIL", "1.2.18": "FAIL",
    "1.2.19": "FAIL", "1.2.20": "FAIL", "1.2.22": "PASS", "1.2.23": "PASS", "1.2.24": "PASS", "1.2.25": "PASS",
    "1.2.26": "PASS", "1.2.27": "PASS", "1.2.28": "WARN", "1.2.30": "WARN",
    "1.3.1": "WARN", "1.3.2": "FAIL", "1.3.3": "PASS", "1.3.4": "PASS", "1.3.5": "PASS", "1.3.6": "PASS",
    "1.3.7": "PASS", "1.4.1": "FAIL", "1.4.2": "PASS",
    "2.1": "PASS", "2.2": "PASS", "2.3": "PASS", "2.4": "PASS", "2.5": "PASS", "2.6": "PASS", "2.7": "PASS",
}


def control_plane_checks() -> dict[str, ControlPlaneCheck]:
    return {c.spec.id: c for c in k8s_checks() if isinstance(c, ControlPlaneCheck)}


def states(collected: K8sCollected) -> dict[str, dict[str, str]]:
    """resource -> CIS control -> kube-bench state."""
    checks = control_plane_checks()
    result = audit(collected, checks=list(checks.values()))
    assert result.skipped == ()
    out: dict[str, dict[str, str]] = {}
    for r in result.results:
        check = checks[r.check_id]
        (ref,) = check.spec.controls
        assert ref.standard == "cis-k8s"
        out.setdefault(r.resource, {})[ref.control] = kube_bench_state(check, r.status)
    return out


def component_states(found: dict[str, dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for per in found.values():
        assert not set(per) & set(merged)  # each control belongs to one component
        merged |= per
    return merged


def test_every_control_is_described_and_mapped_once() -> None:
    checks = control_plane_checks()
    controls = [c.spec.controls[0].control for c in checks.values()]
    assert sorted(controls) == sorted(KUBEADM_STATES)  # 1.2.21 and 1.2.29 need the node's disk
    for check in checks.values():
        s = check.spec
        assert s.standards == ("cis-k8s",) and s.category == "control-plane"
        assert s.title.endswith(("(Automated)", "(Manual)")) and s.remediation and s.description
        assert check.scored == s.title.endswith("(Automated)")


def test_kubeadm_defaults_give_kube_bench_results() -> None:
    found = states(read_paths([str(STATIC / "kubeadm-1.29")]))
    assert set(found) == {"Pod/kube-system/kube-apiserver", "Pod/kube-system/kube-controller-manager",
                          "Pod/kube-system/kube-scheduler", "Pod/kube-system/etcd"}
    assert component_states(found) == KUBEADM_STATES
    assert set(found["Pod/kube-system/etcd"]) == {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"}


def test_failures_say_what_was_expected_and_found() -> None:
    result = audit(read_paths([str(STATIC / "kubeadm-1.29/kube-apiserver.yaml")]),
                   checks=list(control_plane_checks().values()))
    messages = {r.check_id: r.message for r in result.results if r.status == FAIL}
    assert messages["CG-K8S-APISERVER-016"] == ("kube-apiserver: expected '--profiling' is equal to 'false'; "
                                                "--profiling is not set (profiling is on by default)")
    assert messages["CG-K8S-APISERVER-003"].endswith("--enable-admission-plugins=NodeRestriction")
    assert result.results[0].file.endswith("kube-apiserver.yaml") and result.results[0].line == 1


def test_hardened_control_plane_passes() -> None:
    found = states(read_paths([str(STATIC / "hardened")]))
    assert component_states(found) == dict.fromkeys(KUBEADM_STATES, "PASS")


def test_kubectl_dump_of_kube_system_is_assessed_the_same() -> None:
    found = states(read_paths([str(STATIC / "kube-system-pods.json")]))
    # Mirror pods are named after the node; CoreDNS and kube-proxy are not control-plane pods.
    assert set(found) == {"Pod/kube-system/kube-apiserver-cp-1", "Pod/kube-system/kube-controller-manager-cp-1",
                          "Pod/kube-system/kube-scheduler-cp-1", "Pod/kube-system/etcd-cp-1"}
    assert component_states(found) == KUBEADM_STATES


def test_scan_k8s_cli_reports_control_plane_controls() -> None:
    run = subprocess.run([sys.executable, "-m", "containerguard", "scan", "k8s", "--standard", "cis-k8s", "-f", "json",
                          "--exit-code", "3", str(STATIC / "kube-system-pods.json")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 3, run.stderr
    controls = {c["control"]: c for c in json.loads(run.stdout)["controls"]}
    assert controls["1.2.16"]["failing"] == ["Pod/kube-system/kube-apiserver-cp-1"]
    assert controls["1.4.1"]["failing"] == ["Pod/kube-system/kube-scheduler-cp-1"]
    assert controls["2.2"]["pass"] == 1 and controls["2.2"]["failing"] == []


def _pod(container: str, name: str = "kube-apiserver-cp-1", namespace: str = "kube-system",
         labels: str = "{component: kube-apiserver, tier: control-plane}") -> K8sCollected:
    text = (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels: {labels}\n"
            f"spec:\n  containers:\n{textwrap.indent(textwrap.dedent(container), '  ')}")
    objects, skipped = parse_text(text, "pod.yaml")
    assert skipped == []
    return K8sCollected(tuple(objects))


def verdict(collected: K8sCollected, check_id: str) -> str | None:
    checks = [c for c in k8s_checks() if c.spec.id == check_id]
    results = audit(collected, checks=checks).results
    assert len(results) <= 1
    return results[0].status if results else None


@pytest.mark.parametrize(("container", "check_id", "expected"), [
    # image entrypoint is the binary: flags in args only, "--flag value" form
    ("- name: kube-apiserver\n  image: registry.k8s.io/kube-apiserver:v1.29.2\n"
     "  args: [--profiling, 'false', --anonymous-auth=false]", "CG-K8S-APISERVER-016", PASS),
    ("- name: kube-apiserver\n  image: registry.k8s.io/kube-apiserver:v1.29.2\n"
     "  args: [--profiling, 'false', --anonymous-auth=false]", "CG-K8S-APISERVER-001", PASS),
    # a bare boolean flag is true
    ("- name: apiserver\n  image: x\n  command: [/usr/local/bin/kube-apiserver, --profiling]", "CG-K8S-APISERVER-016",
     FAIL),
    # command + args are joined as the kubelet joins them; Go reads 0 as false
    ("- name: apiserver\n  image: x\n  command: [kube-apiserver]\n  args: [--profiling=0]", "CG-K8S-APISERVER-016",
     PASS),
    # a shell wrapper: the script is split and cut at the first operator
    ("- name: apiserver\n  image: x\n  command: [/bin/sh, -c, 'exec kube-apiserver --profiling=false "
     "--audit-log-maxage 45 2>&1 | tee /var/log/apiserver.log']", "CG-K8S-APISERVER-018", PASS),
    ("- name: apiserver\n  image: x\n  command: [/bin/sh, -c, 'exec kube-apiserver --profiling=false "
     "--audit-log-maxage 7']", "CG-K8S-APISERVER-018", FAIL),
    ("- name: apiserver\n  image: x\n  command: [kube-apiserver, --audit-log-maxage=thirty]", "CG-K8S-APISERVER-018",
     FAIL),
    # list flags: elements, across repetitions; AlwaysAllow anywhere fails
    ("- name: a\n  image: x\n  command: [kube-apiserver, --authorization-mode=RBAC, --authorization-mode=Node]",
     "CG-K8S-APISERVER-007", PASS),
    ("- name: a\n  image: x\n  command: [kube-apiserver, '--authorization-mode=Node,RBAC,AlwaysAllow']",
     "CG-K8S-APISERVER-006", FAIL),
    ("- name: a\n  image: x\n  command: [kube-apiserver]", "CG-K8S-APISERVER-006", FAIL),  # default AlwaysAllow
    ("- name: a\n  image: x\n  command: [kube-apiserver, '--enable-admission-plugins=NodeRestriction,AlwaysAdmit']",
     "CG-K8S-APISERVER-010", FAIL),
    ("- name: a\n  image: x\n  command: [kube-apiserver]", "CG-K8S-APISERVER-010", PASS),
    ("- name: a\n  image: x\n  command: [kube-apiserver, '--disable-admission-plugins=ServiceAccount']",
     "CG-K8S-APISERVER-013", FAIL),
    ("- name: a\n  image: x\n  command: [kube-apiserver, --service-account-lookup=false]", "CG-K8S-APISERVER-021",
     FAIL),
    ("- name: a\n  image: x\n  command: [kube-apiserver, --token-auth-file=/etc/tokens.csv]", "CG-K8S-APISERVER-002",
     FAIL),
    ("- name: a\n  image: x\n  command: [kube-apiserver, '--tls-cipher-suites=TLS_RSA_WITH_AES_128_GCM_SHA256,"
     "TLS_ECDHE_RSA_WITH_RC4_128_SHA']", "CG-K8S-APISERVER-028", FAIL),
    ("- name: a\n  image: x\n  command: [kube-apiserver, --kubelet-client-certificate=/pki/c.crt]",
     "CG-K8S-APISERVER-004", FAIL),  # and: the key is missing
])
def test_api_server_flag_forms(container: str, check_id: str, expected: str) -> None:
    assert verdict(_pod(container), check_id) == expected


ETCD_LABELS = "{component: etcd, tier: control-plane}"


@pytest.mark.parametrize(("container", "check_id", "expected"), [
    # exact flag names: --peer-auto-tls is not --auto-tls, --peer-cert-file is not --cert-file
    ("- name: etcd\n  image: x\n  command: [etcd, --peer-auto-tls=true]", "CG-K8S-ETCD-003", PASS),
    ("- name: etcd\n  image: x\n  command: [etcd, --peer-auto-tls=true]", "CG-K8S-ETCD-006", FAIL),
    ("- name: etcd\n  image: x\n  command: [etcd, --peer-cert-file=/p.crt, --peer-key-file=/p.key]",
     "CG-K8S-ETCD-001", FAIL),
    ("- name: etcd\n  image: x\n  command: [etcd, --auto-tls]", "CG-K8S-ETCD-003", FAIL),
    ("- name: etcd\n  image: x\n  command: [etcd, -client-cert-auth=true]", "CG-K8S-ETCD-002", PASS),  # Go flag form
    # etcd reads unset flags from ETCD_* variables
    ("- name: etcd\n  image: x\n  command: [etcd]\n  env: [{name: ETCD_CLIENT_CERT_AUTH, value: 'true'}, "
     "{name: ETCD_CERT_FILE, value: /s.crt}, {name: ETCD_KEY_FILE, value: /s.key}]", "CG-K8S-ETCD-002", PASS),
    ("- name: etcd\n  image: x\n  command: [etcd]\n  env: [{name: ETCD_CERT_FILE, value: /s.crt}, "
     "{name: ETCD_KEY_FILE, value: /s.key}]", "CG-K8S-ETCD-001", PASS),
    ("- name: etcd\n  image: x\n  command: [etcd]\n  env: [{name: ETCD_AUTO_TLS, value: 'true'}]",
     "CG-K8S-ETCD-003", FAIL),
    ("- name: etcd\n  image: x\n  command: [etcd]", "CG-K8S-ETCD-002", FAIL),
])
def test_etcd_flag_forms(container: str, check_id: str, expected: str) -> None:
    assert verdict(_pod(container, name="etcd-cp-1", labels=ETCD_LABELS), check_id) == expected


@pytest.mark.parametrize(("gates", "expected"), [
    ("", PASS),
    ("--feature-gates=RotateKubeletServerCertificate=true", PASS),
    ("--feature-gates=SomethingElse=false", PASS),
    ("'--feature-gates=SomethingElse=true,RotateKubeletServerCertificate=False'", FAIL),
])
def test_rotate_kubelet_server_certificate(gates: str, expected: str) -> None:
    container = f"- name: kcm\n  image: x\n  command: [kube-controller-manager{', ' + gates if gates else ''}]"
    found = verdict(_pod(container, name="kube-controller-manager-cp-1",
                         labels="{component: kube-controller-manager, tier: control-plane}"), "CG-K8S-CTRLMGR-006")
    assert found == expected


@pytest.mark.parametrize(("container", "name", "namespace", "labels"), [
    # a user's pod elsewhere running an API server (e.g. a virtual cluster) is not this cluster's control plane
    ("- name: a\n  image: x\n  command: [kube-apiserver]", "kube-apiserver-x", "tenant-a",
     "{component: kube-apiserver}"),
    # a kube-system pod named like etcd that runs something else
    ("- name: backup\n  image: x\n  command: [etcdctl, snapshot, save, /b/db]", "etcd-backup-28471", "kube-system",
     "{app: etcd-backup}"),
    # labelled as the API server but running another binary
    ("- name: proxy\n  image: x\n  command: [haproxy, -f, /cfg]", "kube-apiserver-lb", "kube-system",
     "{component: kube-apiserver}"),
])
def test_other_pods_are_not_assessed(container: str, name: str, namespace: str, labels: str) -> None:
    checks = list(control_plane_checks().values())
    assert audit(_pod(container, name=name, namespace=namespace, labels=labels), checks=checks).results == ()


def test_flag_reader() -> None:
    flags = parse_flags(["--a=1", "--b", "two", "--c", "--d", "-e=x", "--a=3", "positional"])
    assert flags.values == {"--a": ("1", "3"), "--b": ("two",), "--c": ("true",), "--d": ("true",), "--e": ("x",)}
    assert flags.lookup("--a") == "3" and flags.lookup("--zz") is None
    assert command_line({"command": ["bash", "-c", "kube-scheduler --v=2 && sleep 1"]}, "kube-scheduler") == ["--v=2"]
    assert command_line({"command": ["sh", "-c", "echo 'unbalanced"]}, "kube-scheduler") is None
    assert command_line({"name": "other", "args": ["--x"]}, "kube-scheduler") is None
    dump = read_paths([str(STATIC / "kube-system-pods.json")]).objects
    assert {o.name: component_of(o) for o in dump} == {
        "coredns-76f75df574-q7wzt": "", "etcd-cp-1": "etcd", "kube-apiserver-cp-1": "kube-apiserver",
        "kube-controller-manager-cp-1": "kube-controller-manager", "kube-proxy-8xk2p": "",
        "kube-scheduler-cp-1": "kube-scheduler"}
