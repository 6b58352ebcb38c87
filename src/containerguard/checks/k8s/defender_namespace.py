"""Defender / CIS 5.7.4: the default namespace should not be used."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    POD_SPEC_KINDS,
    Inventory,
    K8sCheckConfig,
    ObjectCheck,
    Violations,
    cis,
    defender,
)
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register

BUILT_IN = {("Service", "kubernetes"), ("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
"""Objects Kubernetes itself creates in ``default``."""


@register("k8s-check")
class DefaultNamespace(ObjectCheck):
    """Workloads, services, config maps, secrets and service accounts are not in ``default``.

    Manifests often leave the namespace unset (it is chosen at apply time), so only an explicit
    ``namespace: default`` fails there; live objects always carry their namespace."""

    kinds = POD_SPEC_KINDS | {"Service", "ConfigMap", "Secret", "ServiceAccount"}
    spec = K8sCheckSpec(
        id="CG-K8S-DEF-009", title="The default namespace must not be used", severity="LOW",
        controls=defender("Kubernetes clusters should not use the default namespace") + cis("5.7.4"),
        category="workload",
        description="Namespaces are the boundary for RBAC, network policy and quotas; default mixes everything.",
        remediation="Create a namespace per application and deploy into it.")

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Everything but built-in objects and pods/ReplicaSets assessed at their controller."""
        return (obj.kind, obj.name) not in BUILT_IN and not inventory.controlled(obj)

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """The object when it is in ``default``."""
        return ["metadata.namespace=default"] if obj.namespace == "default" else []
