"""PSS "/proc Mount Type": Baseline relaxes it for pods in a user namespace (policy v1.35);
Restricted does not."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, pss_controls
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

_REMEDIATION = "Remove securityContext.procMount (or set it to Default) in every container."


def unmasked(pod: Pod) -> Violations:
    """Containers asking for a /proc mount other than Default."""
    return [f'{c.label()} sets securityContext.procMount="{c.security_context.get("procMount")}"'
            for c in pod.containers()
            if c.security_context.get("procMount") is not None and c.security_context.get("procMount") != "Default"]


@register("k8s-check")
class ProcMountBaseline(PodCheck):
    """procMount Default or unset, unless ``spec.hostUsers: false``."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-010", title="The default /proc masks must be kept", severity="MEDIUM",
        controls=pss_controls("/proc Mount Type", restricted_too=False), category="pod-security",
        description="Unmasked /proc exposes kernel interfaces to the container; it is tolerated only inside a "
                    "user namespace.",
        remediation=_REMEDIATION + " (Baseline allows Unmasked only with spec.hostUsers: false.)")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Unmasked containers of pods outside a user namespace."""
        return [] if pod.user_namespace else unmasked(pod)


@register("k8s-check")
class ProcMountRestricted(PodCheck):
    """procMount Default or unset, whatever the user namespace."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-107", title="The default /proc masks must be kept (even in a user namespace)",
        severity="MEDIUM", controls=pss_controls("/proc Mount Type", level="restricted"), category="pod-security",
        description="Restricted requires the default /proc masks for every pod.",
        remediation=_REMEDIATION)

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Unmasked containers."""
        return unmasked(pod)
