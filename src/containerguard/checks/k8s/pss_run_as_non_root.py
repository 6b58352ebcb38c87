"""PSS Restricted "Running as Non-root" and "Running as Non-root user" (both relaxed for pods in a
user namespace from policy v1.35)."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, cis, pss_controls
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


def _root(value: object) -> bool:
    # bool is an int in Python; runAsUser: false is not user 0.
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


@register("k8s-check")
class RunAsNonRoot(PodCheck):
    """``runAsNonRoot: true`` at pod level (not overridden to false) or in every container."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-103", title="Containers must be required to run as non-root", severity="MEDIUM",
        controls=pss_controls("Running as Non-root", level="restricted") + cis("5.2.7"), category="pod-security",
        description="runAsNonRoot makes the kubelet refuse to start a container whose user is root.",
        remediation="Set spec.securityContext.runAsNonRoot: true and do not set it to false in any container.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Explicit runAsNonRoot=false, else containers not covered by runAsNonRoot=true."""
        if pod.user_namespace:
            return []
        setters = []
        pod_value = pod.security_context.get("runAsNonRoot")
        if pod_value is not None and pod_value is not True:
            setters.append("pod")
        implicit = []
        for c in pod.containers():
            value = c.security_context.get("runAsNonRoot")
            if value is not None:
                if value is not True:
                    setters.append(c.label())
            elif pod_value is not True:
                implicit.append(c.label())
        if setters:
            return [f"{', '.join(setters)} must not set securityContext.runAsNonRoot=false"]
        if implicit:
            return [f"pod or {', '.join(implicit)} must set securityContext.runAsNonRoot=true"]
        return []


@register("k8s-check")
class RunAsUserRoot(PodCheck):
    """``runAsUser`` must not be 0 at pod or container level."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-104", title="Containers must not run as user 0", severity="MEDIUM",
        controls=pss_controls("Running as Non-root user", level="restricted"), category="pod-security",
        description="runAsUser: 0 runs the container's processes as root.",
        remediation="Remove runAsUser: 0 or set a non-zero user id.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Pod and containers setting runAsUser=0."""
        if pod.user_namespace:
            return []
        setters = ["pod"] if _root(pod.security_context.get("runAsUser")) else []
        setters += [c.label() for c in pod.containers() if _root(c.security_context.get("runAsUser"))]
        return [f"{', '.join(setters)} must not set runAsUser=0"] if setters else []
