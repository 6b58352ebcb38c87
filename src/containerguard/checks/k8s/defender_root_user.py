"""Defender: running containers as root should be avoided."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, defender
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


def _uid(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@register("k8s-check")
class NonRootUser(PodCheck):
    """Each container's effective settings (container over pod) guarantee a non-root user:
    ``runAsNonRoot: true`` or a non-zero ``runAsUser``."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-005", title="Containers must not run as root", severity="MEDIUM",
        controls=defender("Running containers as root user should be avoided"), category="workload",
        description="Root in a container is root on the node once any isolation fails.",
        remediation="Set runAsNonRoot: true and a non-zero runAsUser in the pod or container securityContext.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers that may run as root."""
        pod_sc = pod.security_context
        bad = []
        for c in pod.containers(ephemeral=False):
            sc = c.security_context
            non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            uid = _uid(sc.get("runAsUser", pod_sc.get("runAsUser")))
            if uid == 0:
                bad.append(f"{c.label()} runs as user 0")
            elif non_root is not True and not uid:
                bad.append(f"{c.label()} may run as root (neither runAsNonRoot=true nor a non-zero runAsUser)")
        return bad
