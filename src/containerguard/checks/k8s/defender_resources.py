"""Defender: containers must declare CPU and memory limits."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, as_map, defender
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class ResourceLimits(PodCheck):
    """``resources.limits.cpu`` and ``resources.limits.memory`` set in every container and init container."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-001", title="Containers must set CPU and memory limits", severity="MEDIUM",
        controls=defender("Container CPU and memory limits should be enforced"), category="workload",
        description="Without limits one container can starve the node (denial of service, noisy neighbours).",
        remediation="Set resources.limits.cpu and resources.limits.memory in every container.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers missing a limit."""
        bad = []
        for c in pod.containers(ephemeral=False):
            limits = as_map(as_map(c.raw.get("resources")).get("limits"))
            missing = [r for r in ("cpu", "memory") if limits.get(r) in (None, "")]
            if missing:
                bad.append(f"{c.label()} has no {' and no '.join(missing)} limit")
        return bad
