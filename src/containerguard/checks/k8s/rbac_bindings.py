"""RBAC bindings: cluster-admin for non-system subjects (CIS 5.1.1), system:masters (CIS 5.1.7),
anonymous and unauthenticated subjects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containerguard.checks.k8s._rbac import BINDING_KINDS, built_in, subject_label, subjects
from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, ObjectCheck, Violations, as_map, cis
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register

ANONYMOUS = {("User", "system:anonymous"), ("Group", "system:unauthenticated")}


class _BindingCheck(ObjectCheck):
    kinds = BINDING_KINDS

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Not the API server's own bindings."""
        return not built_in(obj)


def _system(subject: Mapping[str, Any], binding: K8sObject) -> bool:
    if subject.get("kind") == "ServiceAccount":
        return str(subject.get("namespace") or binding.namespace) == "kube-system"
    return str(subject.get("name") or "").startswith("system:")


@register("k8s-check")
class ClusterAdminBinding(_BindingCheck):
    """A binding of the cluster-admin ClusterRole to users, groups or service accounts outside the system."""

    spec = K8sCheckSpec(
        id="CG-K8S-RBAC-001", title="cluster-admin must not be bound to non-system subjects", severity="CRITICAL",
        controls=cis("5.1.1"), category="rbac",
        description="cluster-admin is every permission on every resource; each extra holder is a cluster takeover "
                    "waiting to happen.",
        remediation="Bind a role with only the permissions needed; keep cluster-admin for break-glass accounts.")

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """Non-system subjects of a cluster-admin binding."""
        ref = as_map(obj.raw.get("roleRef"))
        if ref.get("kind") != "ClusterRole" or ref.get("name") != "cluster-admin":
            return []
        return [f"binds cluster-admin to {subject_label(s, obj)}" for s in subjects(obj) if not _system(s, obj)]


@register("k8s-check")
class SystemMastersBinding(_BindingCheck):
    """CIS 5.1.7: system:masters bypasses authorization entirely."""

    spec = K8sCheckSpec(
        id="CG-K8S-RBAC-013", title="The system:masters group must not be used in bindings", severity="HIGH",
        controls=cis("5.1.7"), category="rbac",
        description="Members of system:masters bypass RBAC; bindings naming the group show it is being relied on.",
        remediation="Grant permissions through a dedicated group and role instead of system:masters.")

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """Bindings naming system:masters."""
        return [f"binds {subject_label(s, obj)}" for s in subjects(obj)
                if s.get("kind") == "Group" and s.get("name") == "system:masters"]


@register("k8s-check")
class AnonymousBinding(_BindingCheck):
    """Anything granted to system:anonymous or system:unauthenticated is granted to the internet."""

    spec = K8sCheckSpec(
        id="CG-K8S-RBAC-012", title="Anonymous or unauthenticated subjects must not be bound", severity="CRITICAL",
        controls=(), category="rbac",
        description="Permissions bound to system:anonymous or system:unauthenticated need no credentials at all.",
        remediation="Remove system:anonymous and system:unauthenticated from the binding's subjects.")

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """Anonymous subjects."""
        return [f"binds {subject_label(s, obj)}" for s in subjects(obj) if (s.get("kind"), s.get("name")) in ANONYMOUS]
