"""PSS Baseline "Host Ports"."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    cis,
    pss_controls,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


def host_ports(pod: Pod) -> list[tuple[str, int]]:
    """(container label, host port) of every port bound on the node.

    The API server defaults ``hostPort`` to ``containerPort`` for Pods on the host network (not for
    pod templates since Kubernetes 1.28), and the admission controller sees the defaulted Pod."""
    defaulted = pod.obj.kind == "Pod" and pod.spec.get("hostNetwork") is True
    out = []
    for c in pod.containers():
        for port in as_list(c.raw.get("ports")):
            port = as_map(port)
            value = port.get("hostPort")
            if not value and defaulted:
                value = port.get("containerPort")
            if isinstance(value, int) and value != 0:
                out.append((c.label(), value))
    return out


@register("k8s-check")
class HostPorts(PodCheck):
    """``ports[*].hostPort`` must be unset or 0 in every container."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-006", title="Host ports are forbidden", severity="MEDIUM",
        controls=pss_controls("Host Ports") + cis("5.2.13"), category="pod-security",
        description="A host port binds the container to the node's network interfaces, bypassing network policy.",
        remediation="Remove ports[*].hostPort; expose the workload through a Service instead.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Each host port bound."""
        return [f"{label} binds hostPort {port}" for label, port in host_ports(pod)]
