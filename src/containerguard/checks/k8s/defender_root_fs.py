"""Defender: immutable (read-only) root file system."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, defender
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class ReadOnlyRootFilesystem(PodCheck):
    """``securityContext.readOnlyRootFilesystem: true`` in every container and init container."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-004", title="Containers must run with a read-only root file system", severity="LOW",
        controls=defender("Immutable (read-only) root filesystem should be enforced for containers"),
        category="workload",
        description="A writable root file system lets an attacker drop binaries and change the image at run time.",
        remediation="Set securityContext.readOnlyRootFilesystem: true; mount emptyDir volumes where the app writes.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers with a writable root."""
        bad = [c.label() for c in pod.containers(ephemeral=False)
               if c.security_context.get("readOnlyRootFilesystem") is not True]
        return [f"{', '.join(bad)} must set securityContext.readOnlyRootFilesystem=true"] if bad else []
