"""Defender: pods use the host network and host ports only as approved."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, defender
from containerguard.checks.k8s.pss_host_ports import host_ports
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class HostNetworkPorts(PodCheck):
    """No host network; host ports only from the configured allow-list (none by default)."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-011", title="Pods must not use the host network or unapproved host ports", severity="HIGH",
        controls=defender("Kubernetes cluster pods should only use approved host network and port range"),
        category="workload",
        description="The host network exposes node interfaces and bypasses network policy.",
        remediation="Remove spec.hostNetwork and hostPort settings, or approve the ports with --allowed-host-port.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Host network use and unapproved host ports."""
        bad = ["spec.hostNetwork=true"] if pod.spec.get("hostNetwork") is True else []
        bad += [f"{label} binds host port {port}, not approved"
                for label, port in host_ports(pod) if port not in config.allowed_host_ports]
        return bad
