"""PSS Baseline "Host Namespaces": sharing the host's network, PID or IPC namespace is forbidden."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, defender, pss_controls
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

HOST_NAMESPACE_FIELDS = ("hostNetwork", "hostPID", "hostIPC")


@register("k8s-check")
class HostNamespaces(PodCheck):
    """``spec.hostNetwork``, ``spec.hostPID`` and ``spec.hostIPC`` must be unset or false."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-002", title="Host namespaces must not be shared", severity="HIGH",
        controls=pss_controls("Host Namespaces")
        + defender("Containers sharing sensitive host namespaces should be avoided"),
        category="pod-security",
        description="A pod in the host's network, PID or IPC namespace can see and reach the node's processes "
                    "and traffic.",
        remediation="Remove spec.hostNetwork, spec.hostPID and spec.hostIPC (or set them to false).")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Each host namespace the pod shares."""
        return [f"spec.{f}=true" for f in HOST_NAMESPACE_FIELDS if pod.spec.get(f) is True]
