"""Exposure: services reachable from outside the cluster (NodePort, public LoadBalancer)."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, ObjectCheck, Violations, as_list, as_map, defender
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register

INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
    "service.beta.kubernetes.io/oci-load-balancer-internal": "true",
}
"""Annotations that make a cloud provider's load balancer private (value compared case-insensitively)."""


def internal_lb(service: K8sObject) -> bool:
    """True when a LoadBalancer service asks its cloud for an internal load balancer."""
    annotations = as_map(service.metadata.get("annotations"))
    return any(str(annotations.get(k, "")).lower() == v for k, v in INTERNAL_LB_ANNOTATIONS.items())


def external_exposure(service: K8sObject) -> list[str]:
    """How a Service is reachable from outside the cluster network (empty: it is not)."""
    spec = as_map(service.raw.get("spec"))
    kind = spec.get("type") or "ClusterIP"
    out = []
    if kind == "NodePort":
        ports = [str(as_map(p).get("nodePort") or "auto") for p in as_list(spec.get("ports"))]
        out.append(f"type NodePort (node ports {', '.join(ports)})")
    elif kind == "LoadBalancer" and not internal_lb(service):
        out.append("type LoadBalancer without an internal load balancer annotation")
    if as_list(spec.get("externalIPs")):
        out.append(f"externalIPs {', '.join(str(i) for i in as_list(spec.get('externalIPs')))}")
    return out


@register("k8s-check")
class ExposedService(ObjectCheck):
    """Services of type NodePort, public LoadBalancer, or with externalIPs."""

    kinds = frozenset({"Service"})
    spec = K8sCheckSpec(
        id="CG-K8S-NET-002", title="Services should not be exposed outside the cluster", severity="MEDIUM",
        controls=defender("Kubernetes clusters should use internal load balancers"), category="network",
        description="NodePort and public load balancer services open the workload to networks outside the cluster.",
        remediation="Use ClusterIP behind an Ingress with TLS and authentication, or an internal load balancer.")

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """How the service is exposed."""
        return external_exposure(obj)
