"""Defender: hostPath volumes only under approved paths."""

from __future__ import annotations

import posixpath

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    defender,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


def under(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or inside it (whole path segments; ``..`` resolved)."""
    path, prefix = posixpath.normpath("/" + path), posixpath.normpath("/" + prefix)
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


@register("k8s-check")
class HostPathAllowList(PodCheck):
    """Every hostPath volume's path is under a configured prefix (with none configured, none is)."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-012", title="HostPath volumes must be limited to an allow-list", severity="HIGH",
        controls=defender("Usage of pod HostPath volume mounts should be restricted to a known list"),
        category="workload",
        description="Mounting arbitrary node paths (/, /var/run/docker.sock, /etc) hands the node to the container.",
        remediation="Remove hostPath volumes, or approve their paths with --allowed-host-path.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """hostPath volumes outside the allow-list."""
        bad = []
        for volume in as_list(pod.spec.get("volumes")):
            host = as_map(volume).get("hostPath")
            if host is None:
                continue
            path = str(as_map(host).get("path") or "")
            if not any(under(path, p) for p in config.allowed_host_paths):
                bad.append(f'volume "{as_map(volume).get("name")}" mounts host path "{path}", not approved')
        return bad
