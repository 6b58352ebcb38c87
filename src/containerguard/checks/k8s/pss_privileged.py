"""PSS Baseline "Privileged Containers"."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    cis,
    defender,
    pss_controls,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class Privileged(PodCheck):
    """``securityContext.privileged`` must be unset or false in every container."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-003", title="Privileged containers are forbidden", severity="CRITICAL",
        controls=pss_controls("Privileged Containers") + cis("5.2.2")
        + defender("Privileged containers should be avoided"),
        category="pod-security",
        description="A privileged container has every capability and the host's devices: it is root on the node.",
        remediation="Remove securityContext.privileged (or set it to false) in every container.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Each privileged container."""
        return [f"{c.label()} sets securityContext.privileged=true"
                for c in pod.containers() if c.security_context.get("privileged") is True]
