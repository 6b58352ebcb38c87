"""RBAC helpers shared by the RBAC checks: rule matching and built-in object detection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from containerguard.checks.k8s.base import as_list, as_map
from containerguard.models.k8s import K8sObject

ROLE_KINDS = frozenset({"Role", "ClusterRole"})
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})


def built_in(obj: K8sObject) -> bool:
    """Objects the API server creates and reconciles itself (label ``kubernetes.io/bootstrapping``)."""
    return as_map(obj.metadata.get("labels")).get("kubernetes.io/bootstrapping") == "rbac-defaults"


@dataclass(frozen=True)
class Grant:
    """A permission to look for: any of ``verbs`` on any of ``resources`` in any of ``groups``."""

    groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]

    def granted_by(self, rule: Mapping[str, Any]) -> bool:
        """True when ``rule`` grants this permission (wildcards included)."""
        groups = {str(g) for g in as_list(rule.get("apiGroups"))}
        resources = {str(r) for r in as_list(rule.get("resources"))}
        verbs = {str(v) for v in as_list(rule.get("verbs"))}
        if as_list(rule.get("resourceNames")):
            # Rules limited to named objects cannot create and rarely matter; keep them for reads.
            verbs -= {"create", "list", "watch", "deletecollection"}
        return (bool(groups & ({"*"} | set(self.groups)))
                and any(_resource_match(r, res) for r in self.resources for res in resources)
                and bool(verbs & ({"*"} | set(self.verbs))))


def _resource_match(wanted: str, granted: str) -> bool:
    if granted in ("*", wanted):
        return True
    # "pods/*" grants every subresource of pods.
    return "/" in wanted and granted == wanted.split("/", 1)[0] + "/*"


def rules(obj: K8sObject) -> list[Mapping[str, Any]]:
    """The rules of a Role or ClusterRole."""
    return [as_map(r) for r in as_list(obj.raw.get("rules"))]


def subjects(obj: K8sObject) -> list[Mapping[str, Any]]:
    """The subjects of a binding."""
    return [as_map(s) for s in as_list(obj.raw.get("subjects"))]


def subject_label(subject: Mapping[str, Any], binding: K8sObject) -> str:
    """``User alice``, ``Group devs``, ``ServiceAccount ns/name``."""
    kind = str(subject.get("kind") or "?")
    if kind == "ServiceAccount":
        return f"ServiceAccount {subject.get('namespace') or binding.namespace}/{subject.get('name')}"
    return f"{kind} {subject.get('name')}"
