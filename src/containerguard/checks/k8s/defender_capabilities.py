"""Defender: no CAP_SYS_ADMIN; least-privileged capabilities."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    defender,
    quote_list,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


def added(sc: object) -> list[str]:
    """Capabilities a securityContext adds, normalised without the ``CAP_`` prefix."""
    caps = as_list(as_map(as_map(sc).get("capabilities")).get("add"))
    return [str(c).upper().removeprefix("CAP_") for c in caps]


@register("k8s-check")
class NoSysAdmin(PodCheck):
    """No container adds SYS_ADMIN."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-006", title="Containers must not add CAP_SYS_ADMIN", severity="HIGH",
        controls=defender("Kubernetes clusters should not grant CAP_SYS_ADMIN security capabilities"),
        category="workload",
        description="CAP_SYS_ADMIN allows mounts, namespaces and much of what root can do: a known escape path.",
        remediation="Remove SYS_ADMIN from securityContext.capabilities.add.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers adding SYS_ADMIN."""
        return [f"{c.label()} adds SYS_ADMIN" for c in pod.containers() if "SYS_ADMIN" in added(c.security_context)]


@register("k8s-check")
class LeastPrivilegeCapabilities(PodCheck):
    """Containers add only capabilities on the configured allow-list (none by default)."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-007", title="Containers must add only allowed capabilities", severity="MEDIUM",
        controls=defender("Least privileged Linux capabilities should be enforced for containers"),
        category="workload",
        description="Each added capability widens what a compromised process can do to the node.",
        remediation="Remove capabilities the workload does not need from securityContext.capabilities.add "
                    "(or allow them explicitly with --allowed-capability).")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers adding capabilities outside the allow-list."""
        allowed = {c.upper().removeprefix("CAP_") for c in config.allowed_capabilities}
        bad = []
        for c in pod.containers():
            extra = [cap for cap in added(c.security_context) if cap not in allowed]
            if extra:
                bad.append(f"{c.label()} adds {quote_list(extra)}")
        return bad
