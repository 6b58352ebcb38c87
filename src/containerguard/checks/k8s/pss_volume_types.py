"""PSS Restricted "Volume Types"."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    pss_controls,
    quote_list,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

ALLOWED_SOURCES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                             "persistentVolumeClaim", "projected", "secret"})
"""``image`` volumes are allowed since Kubernetes 1.33."""


@register("k8s-check")
class VolumeTypes(PodCheck):
    """Every volume is one of :data:`ALLOWED_SOURCES` (a volume with no source defaults to emptyDir)."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-101", title="Only core volume types may be used", severity="MEDIUM",
        controls=pss_controls("Volume Types", level="restricted"), category="pod-security",
        description="Restricted pods use only volumes defined through PersistentVolumes or ephemeral core types; "
                    "hostPath and in-line network volumes are forbidden.",
        remediation="Use configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected "
                    "or secret volumes; reach other storage through a PersistentVolumeClaim.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """The volumes of other types, as one violation."""
        bad = []
        for volume in as_list(pod.spec.get("volumes")):
            volume = as_map(volume)
            sources = {k for k, v in volume.items() if k != "name" and v is not None}
            # The API server defaults a volume without any source to emptyDir before admission.
            if sources and not sources & ALLOWED_SOURCES:
                bad.append(str(volume.get("name")))
        return [f"volumes {quote_list(bad)} have restricted types"] if bad else []
