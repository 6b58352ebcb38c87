"""PSS Baseline "HostProcess": Windows HostProcess containers are forbidden."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_map,
    cis,
    pss_controls,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class HostProcess(PodCheck):
    """``securityContext.windowsOptions.hostProcess`` must be unset or false (pod and every container)."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-001", title="Windows HostProcess containers are forbidden", severity="HIGH",
        controls=pss_controls("HostProcess") + cis("5.2.11"), category="pod-security",
        description="HostProcess containers get privileged access to the Windows node.",
        remediation="Remove securityContext.windowsOptions.hostProcess (or set it to false) at pod and "
                    "container level.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Pod and containers setting hostProcess=true."""
        bad = []
        if as_map(pod.security_context.get("windowsOptions")).get("hostProcess") is True:
            bad.append("pod sets securityContext.windowsOptions.hostProcess=true")
        for c in pod.containers():
            if as_map(c.security_context.get("windowsOptions")).get("hostProcess") is True:
                bad.append(f"{c.label()} sets securityContext.windowsOptions.hostProcess=true")
        return bad
