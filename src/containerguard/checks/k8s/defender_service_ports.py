"""Defender: services listen only on allowed ports."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, ObjectCheck, Violations, as_list, as_map, defender
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register


@register("k8s-check")
class AllowedServicePorts(ObjectCheck):
    """Every ``spec.ports[*].port`` of a Service is on the configured allow-list."""

    kinds = frozenset({"Service"})
    spec = K8sCheckSpec(
        id="CG-K8S-DEF-010", title="Services must listen only on allowed ports", severity="MEDIUM",
        controls=defender("Services should listen on allowed ports only"), category="network",
        description="Unexpected service ports widen the attack surface of the cluster.",
        remediation="Remove or change service ports that are not on the approved list.")

    def not_run_reason(self, config: K8sCheckConfig) -> str:
        """Needs ``--allowed-port``."""
        return "" if config.allowed_service_ports else "no allowed service ports configured (--allowed-port)"

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """Ports not allowed."""
        ports = [as_map(p).get("port") for p in as_list(as_map(obj.raw.get("spec")).get("ports"))]
        bad = [str(p) for p in ports if p not in config.allowed_service_ports]
        return [f"listens on ports not allowed: {', '.join(bad)}"] if bad else []
