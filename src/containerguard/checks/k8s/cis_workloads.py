"""CIS Kubernetes Benchmark section 5 controls on workloads not covered one-to-one by a PSS control:
host PID/IPC/network (5.2.3-5.2.5), NET_RAW (5.2.8), added capabilities (5.2.9), default service
accounts (5.1.5) and secrets in environment variables (5.4.1)."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    ObjectCheck,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    cis,
)
from containerguard.checks.k8s.defender_capabilities import added
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register


class _HostNamespace(PodCheck):
    field: str

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """The pod when it sets the field."""
        return [f"spec.{self.field}=true"] if pod.spec.get(self.field) is True else []


@register("k8s-check")
class HostPID(_HostNamespace):
    """CIS 5.2.3."""

    field = "hostPID"
    spec = K8sCheckSpec(
        id="CG-K8S-CIS-001", title="Containers must not share the host process ID namespace", severity="HIGH",
        controls=cis("5.2.3"), category="pod-security",
        description="With hostPID a container sees and can signal every process of the node.",
        remediation="Remove spec.hostPID (or set it to false).")


@register("k8s-check")
class HostIPC(_HostNamespace):
    """CIS 5.2.4."""

    field = "hostIPC"
    spec = K8sCheckSpec(
        id="CG-K8S-CIS-002", title="Containers must not share the host IPC namespace", severity="HIGH",
        controls=cis("5.2.4"), category="pod-security",
        description="With hostIPC a container reaches the node's shared memory and IPC objects.",
        remediation="Remove spec.hostIPC (or set it to false).")


@register("k8s-check")
class HostNetwork(_HostNamespace):
    """CIS 5.2.5."""

    field = "hostNetwork"
    spec = K8sCheckSpec(
        id="CG-K8S-CIS-003", title="Containers must not share the host network namespace", severity="HIGH",
        controls=cis("5.2.5"), category="pod-security",
        description="With hostNetwork a container uses the node's interfaces, bypassing network policy.",
        remediation="Remove spec.hostNetwork (or set it to false).")


@register("k8s-check")
class NetRaw(PodCheck):
    """CIS 5.2.8: every container drops NET_RAW (or ALL) and does not add it back."""

    spec = K8sCheckSpec(
        id="CG-K8S-CIS-004", title="Containers must drop the NET_RAW capability", severity="MEDIUM",
        controls=cis("5.2.8"), category="pod-security",
        description="NET_RAW, in the default set, allows packet crafting and ARP/DNS spoofing inside the node network.",
        remediation='Add "NET_RAW" (or "ALL") to securityContext.capabilities.drop.')

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers keeping NET_RAW."""
        bad = []
        for c in pod.containers():
            drop = {str(x).upper().removeprefix("CAP_")
                    for x in as_list(as_map(c.security_context.get("capabilities")).get("drop"))}
            if "NET_RAW" in added(c.security_context) or not drop & {"ALL", "NET_RAW"}:
                bad.append(f"{c.label()} keeps NET_RAW")
        return bad


@register("k8s-check")
class AddedCapabilities(PodCheck):
    """CIS 5.2.9: no container adds capabilities."""

    spec = K8sCheckSpec(
        id="CG-K8S-CIS-005", title="Containers must not add capabilities", severity="MEDIUM",
        controls=cis("5.2.9"), category="pod-security",
        description="Capabilities beyond the runtime default widen what a compromised process can do.",
        remediation="Remove securityContext.capabilities.add.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers adding capabilities."""
        return [f"{c.label()} adds {', '.join(added(c.security_context))}"
                for c in pod.containers() if added(c.security_context)]


@register("k8s-check")
class DefaultServiceAccount(ObjectCheck):
    """CIS 5.1.5: each namespace's ``default`` service account disables token automounting."""

    kinds = frozenset({"ServiceAccount"})
    spec = K8sCheckSpec(
        id="CG-K8S-CIS-006", title="Default service accounts must not mount tokens", severity="LOW",
        controls=cis("5.1.5"), category="rbac",
        description="Pods without an explicit service account run as default; its token should be useless.",
        remediation="Set automountServiceAccountToken: false on every namespace's default service account and "
                    "give workloads that call the API their own service account.")

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Only service accounts named default."""
        return obj.name == "default"

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """The account when automounting is not disabled."""
        if obj.raw.get("automountServiceAccountToken") is False:
            return []
        return ["automountServiceAccountToken is not false"]


@register("k8s-check")
class SecretsInEnv(PodCheck):
    """CIS 5.4.1: secrets are mounted as files, not passed in environment variables."""

    spec = K8sCheckSpec(
        id="CG-K8S-CIS-007", title="Secrets must not be passed as environment variables", severity="LOW",
        controls=cis("5.4.1"), category="workload",
        description="Environment variables leak into logs, crash dumps and child processes.",
        remediation="Mount secrets as files (a secret volume) instead of env valueFrom.secretKeyRef or "
                    "envFrom.secretRef.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers reading secrets into their environment."""
        bad = []
        for c in pod.containers():
            names = [str(as_map(as_map(as_map(e).get("valueFrom")).get("secretKeyRef")).get("name"))
                     for e in as_list(c.raw.get("env")) if as_map(as_map(e).get("valueFrom")).get("secretKeyRef")]
            names += [str(as_map(as_map(e).get("secretRef")).get("name"))
                      for e in as_list(c.raw.get("envFrom")) if as_map(e).get("secretRef")]
            if names:
                bad.append(f"{c.label()} reads secrets {', '.join(sorted(set(names)))} into environment variables")
        return bad
