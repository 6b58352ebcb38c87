"""RBAC: roles granting dangerous permissions (CIS 5.1.2-5.1.4, 5.1.8-5.1.13; exec/attach)."""

from __future__ import annotations

from typing import ClassVar

from containerguard.checks.k8s._rbac import ROLE_KINDS, Grant, built_in, rules
from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, ObjectCheck, Violations, as_list, cis
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register

WORKLOADS = ("pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs",
             "replicationcontrollers")


class _PermissionCheck(ObjectCheck):
    """Roles and ClusterRoles (built-in ones excepted) granting any of :attr:`grants`."""

    kinds = ROLE_KINDS
    grants: ClassVar[tuple[Grant, ...]]
    what: ClassVar[str]

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Not the API server's own roles."""
        return not built_in(obj)

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """One violation per rule granting the permission."""
        bad = []
        for i, rule in enumerate(rules(obj)):
            if any(g.granted_by(rule) for g in self.grants):
                verbs = ",".join(str(v) for v in as_list(rule.get("verbs")))
                resources = ",".join(str(r) for r in as_list(rule.get("resources")))
                bad.append(f"rules[{i}] ({verbs} on {resources}) {self.what}")
        return bad


def _spec(check_id: str, title: str, severity: str, sections: tuple[str, ...], description: str,
          remediation: str) -> K8sCheckSpec:
    return K8sCheckSpec(id=check_id, title=title, severity=severity, controls=cis(*sections), category="rbac",
                        description=description, remediation=remediation)


@register("k8s-check")
class Wildcards(_PermissionCheck):
    """CIS 5.1.3: ``*`` in verbs or resources."""

    grants = ()
    what = "uses a wildcard"
    spec = _spec("CG-K8S-RBAC-002", "Roles must not use wildcards in verbs or resources", "HIGH", ("5.1.3",),
                 "A wildcard grants every current and future resource or verb, including new sensitive ones.",
                 "List the verbs and resources the role needs instead of *.")

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """Rules with ``*`` verbs or resources."""
        bad = []
        for i, rule in enumerate(rules(obj)):
            fields = [f for f in ("verbs", "resources") if "*" in as_list(rule.get(f))]
            if fields:
                bad.append(f"rules[{i}] has * in {' and '.join(fields)}")
        return bad


@register("k8s-check")
class SecretsRead(_PermissionCheck):
    """CIS 5.1.2."""

    grants = (Grant(("",), ("secrets",), ("get", "list", "watch")),)
    what = "reads secrets"
    spec = _spec("CG-K8S-RBAC-003", "Roles must not read secrets", "HIGH", ("5.1.2",),
                 "Reading secrets yields credentials, including service account tokens of more powerful accounts.",
                 "Remove get/list/watch on secrets, or limit it with resourceNames to the secrets needed.")


@register("k8s-check")
class ExecAttach(_PermissionCheck):
    """Interactive access to running containers."""

    grants = (Grant(("",), ("pods/exec", "pods/attach"), ("create", "get")),)
    what = "allows exec/attach into pods"
    spec = _spec("CG-K8S-RBAC-004", "Roles must not allow exec or attach into pods", "HIGH", (),
                 "pods/exec and pods/attach run commands inside containers: every secret and token they hold "
                 "is exposed.",
                 "Remove create/get on pods/exec and pods/attach from roles of non-administrators.")


@register("k8s-check")
class EscalateBindImpersonate(_PermissionCheck):
    """CIS 5.1.8."""

    grants = (Grant(("rbac.authorization.k8s.io",), ("roles", "clusterroles"), ("escalate", "bind")),
              Grant(("", "authentication.k8s.io"), ("users", "groups", "serviceaccounts", "userextras/*", "uids"),
                    ("impersonate",)))
    what = "allows privilege escalation (escalate/bind/impersonate)"
    spec = _spec("CG-K8S-RBAC-005", "Roles must not grant escalate, bind or impersonate", "HIGH", ("5.1.8",),
                 "escalate and bind let a subject grant itself any permission; impersonate lets it act as anyone.",
                 "Remove escalate, bind and impersonate from the role.")


@register("k8s-check")
class CreateWorkloads(_PermissionCheck):
    """CIS 5.1.4."""

    grants = (Grant(("", "apps", "batch"), WORKLOADS, ("create",)),)
    what = "creates pods or workloads"
    spec = _spec("CG-K8S-RBAC-006", "Roles must not create pods or workloads", "MEDIUM", ("5.1.4",),
                 "Creating a pod lets a subject run any service account's token and, without admission control, "
                 "a privileged container on a node.",
                 "Limit create on pods and workload kinds to deployment tooling and administrators.")


@register("k8s-check")
class CreatePersistentVolumes(_PermissionCheck):
    """CIS 5.1.9."""

    grants = (Grant(("",), ("persistentvolumes",), ("create",)),)
    what = "creates persistent volumes"
    spec = _spec("CG-K8S-RBAC-007", "Roles must not create persistent volumes", "MEDIUM", ("5.1.9",),
                 "A persistent volume can point at a hostPath and expose the node's file system.",
                 "Remove create on persistentvolumes; let users request storage through PersistentVolumeClaims.")


@register("k8s-check")
class NodeProxy(_PermissionCheck):
    """CIS 5.1.10."""

    grants = (Grant(("",), ("nodes/proxy",), ("get", "create", "update", "patch", "delete")),)
    what = "reaches the kubelet API through nodes/proxy"
    spec = _spec("CG-K8S-RBAC-008", "Roles must not access the nodes/proxy subresource", "HIGH", ("5.1.10",),
                 "nodes/proxy reaches the kubelet API directly, bypassing audit and admission (and can run "
                 "commands in pods).",
                 "Remove access to nodes/proxy.")


@register("k8s-check")
class CsrApproval(_PermissionCheck):
    """CIS 5.1.11."""

    grants = (Grant(("certificates.k8s.io",), ("certificatesigningrequests/approval",), ("update", "patch")),)
    what = "approves certificate signing requests"
    spec = _spec("CG-K8S-RBAC-009", "Roles must not approve certificate signing requests", "HIGH", ("5.1.11",),
                 "Approving a CSR can mint a client certificate for any user or group, system:masters included.",
                 "Remove update on certificatesigningrequests/approval.")


@register("k8s-check")
class WebhookConfigurations(_PermissionCheck):
    """CIS 5.1.12."""

    grants = (Grant(("admissionregistration.k8s.io",),
                    ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"),
                    ("create", "update", "patch", "delete")),)
    what = "changes admission webhook configurations"
    spec = _spec("CG-K8S-RBAC-010", "Roles must not change admission webhook configurations", "HIGH", ("5.1.12",),
                 "A webhook sees (and a mutating one rewrites) every object admitted, secrets included.",
                 "Remove write access to validating/mutating webhook configurations.")


@register("k8s-check")
class TokenCreation(_PermissionCheck):
    """CIS 5.1.13."""

    grants = (Grant(("",), ("serviceaccounts/token",), ("create",)),)
    what = "creates service account tokens"
    spec = _spec("CG-K8S-RBAC-011", "Roles must not create service account tokens", "HIGH", ("5.1.13",),
                 "Creating a token for a service account is acting as that account.",
                 "Remove create on serviceaccounts/token.")
