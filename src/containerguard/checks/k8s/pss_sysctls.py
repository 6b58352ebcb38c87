"""PSS Baseline "Sysctls": only the safe, namespaced set."""

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

SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",  # policy v1.27
    "net.ipv4.tcp_keepalive_time",  # v1.29
    "net.ipv4.tcp_fin_timeout",  # v1.29
    "net.ipv4.tcp_keepalive_intvl",  # v1.29
    "net.ipv4.tcp_keepalive_probes",  # v1.29
    "net.ipv4.tcp_rmem",  # v1.32
    "net.ipv4.tcp_wmem",  # v1.32
})
"""The safe sysctls of the latest released policy version."""


@register("k8s-check")
class Sysctls(PodCheck):
    """``spec.securityContext.sysctls[*].name`` limited to :data:`SAFE_SYSCTLS`."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-012", title="Only safe sysctls may be set", severity="MEDIUM",
        controls=pss_controls("Sysctls"), category="pod-security",
        description="Sysctls outside the safe set are not isolated per pod and can affect the whole node.",
        remediation="Remove unsafe entries from spec.securityContext.sysctls.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """The forbidden sysctls, as one violation."""
        names = [str(as_map(s).get("name")) for s in as_list(pod.security_context.get("sysctls"))]
        forbidden = [n for n in names if n not in SAFE_SYSCTLS]
        return [f"forbidden sysctls {quote_list(forbidden)}"] if forbidden else []
