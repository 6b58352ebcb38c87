"""PSS Baseline "HostPath Volumes"."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    cis,
    pss_controls,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class HostPathVolumes(PodCheck):
    """No volume may be a hostPath (Restricted's volume-type control supersedes this one)."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-005", title="HostPath volumes are forbidden", severity="HIGH",
        controls=pss_controls("HostPath Volumes", restricted_too=False) + cis("5.2.12"), category="pod-security",
        description="A hostPath volume exposes the node's file system to the container.",
        remediation="Replace hostPath volumes with persistentVolumeClaim, emptyDir, configMap or secret volumes.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Each hostPath volume."""
        return [f'volume "{as_map(v).get("name")}" is a hostPath ({as_map(as_map(v).get("hostPath")).get("path")})'
                for v in as_list(pod.spec.get("volumes")) if as_map(v).get("hostPath") is not None]
