"""PSS Restricted "Privilege Escalation"."""

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
class PrivilegeEscalation(PodCheck):
    """Every container sets ``allowPrivilegeEscalation: false`` (Windows pods exempt)."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-102", title="Privilege escalation must be disallowed", severity="MEDIUM",
        controls=pss_controls("Privilege Escalation", level="restricted") + cis("5.2.6")
        + defender("Container with privilege escalation should be avoided"),
        category="pod-security",
        description="Without no_new_privs a process can gain privileges through set-user-ID binaries.",
        remediation="Set securityContext.allowPrivilegeEscalation: false in every container.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers that do not set allowPrivilegeEscalation=false."""
        if pod.windows:
            return []
        bad = [c.label() for c in pod.containers() if c.security_context.get("allowPrivilegeEscalation") is not False]
        return [f"{', '.join(bad)} must set securityContext.allowPrivilegeEscalation=false"] if bad else []
