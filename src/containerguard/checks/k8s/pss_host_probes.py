"""PSS Baseline "Host Probes / Lifecycle Hooks" (policy v1.34+)."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_map,
    pss_controls,
    quote_list,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HOOKS = ("postStart", "preStop")
ACTIONS = ("httpGet", "tcpSocket")


@register("k8s-check")
class HostProbes(PodCheck):
    """``host`` of httpGet/tcpSocket probes and lifecycle handlers must be unset or empty."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-007", title="Probes and lifecycle hooks must not set a host", severity="MEDIUM",
        controls=pss_controls("Host Probes / Lifecycle Hooks"), category="pod-security",
        description="A probe or hook with a host makes the kubelet send requests to any address, e.g. the "
                    "node's own services (server-side request forgery).",
        remediation="Remove the host field from httpGet/tcpSocket probes and lifecycle handlers.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers with a probe or hook host."""
        bad = []
        for c in pod.containers():
            handlers = [as_map(c.raw.get(p)) for p in PROBES]
            lifecycle = as_map(c.raw.get("lifecycle"))
            handlers += [as_map(lifecycle.get(h)) for h in HOOKS]
            hosts = [str(as_map(h.get(a)).get("host")) for h in handlers for a in ACTIONS
                     if as_map(h.get(a)).get("host")]
            if hosts:
                bad.append(f"{c.label()} uses probe or lifecycle hosts {quote_list(hosts)}")
        return bad
