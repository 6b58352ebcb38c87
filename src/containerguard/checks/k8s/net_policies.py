"""CIS 5.3.2: every namespace has a NetworkPolicy."""

from __future__ import annotations

from collections.abc import Iterator

from containerguard.checks.k8s.base import Inventory, K8sCheck, K8sCheckConfig, Violations, cis
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register

DEFAULT = "default"


def effective_namespace(obj: K8sObject) -> str:
    """The namespace an object lands in; a manifest without one goes where it is applied, counted as
    ``default`` (the same place as every other namespace-less manifest of the set)."""
    return obj.namespace or DEFAULT


@register("k8s-check")
class NamespaceNetworkPolicy(K8sCheck):
    """Declared namespaces and namespaces running workloads each have at least one NetworkPolicy."""

    spec = K8sCheckSpec(
        id="CG-K8S-NET-001", title="Namespaces must have a NetworkPolicy", severity="MEDIUM",
        controls=cis("5.3.2"), category="network",
        description="Without a NetworkPolicy every pod accepts traffic from every other pod in the cluster.",
        remediation="Add a default-deny NetworkPolicy to the namespace and allow the flows the applications need.")

    def targets(self, inventory: Inventory) -> Iterator[K8sObject]:
        """Namespace objects, plus a synthetic Namespace for each namespace only seen through its workloads."""
        seen: set[str] = set()
        for ns in inventory.of_kind("Namespace"):
            seen.add(ns.name)
            yield ns
        for pod in inventory.pods():
            name = effective_namespace(pod.obj)
            if name not in seen:
                seen.add(name)
                yield K8sObject(kind="Namespace", api_version="v1", namespace="", name=name,
                                raw={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                source=pod.obj.source, line=pod.obj.line)

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """The namespace when no NetworkPolicy selects into it."""
        for policy in inventory.of_kind("NetworkPolicy"):
            if effective_namespace(policy) == obj.name:
                return []
        return [f'namespace "{obj.name}" has no NetworkPolicy']
