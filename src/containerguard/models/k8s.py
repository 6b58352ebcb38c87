"""Kubernetes objects as read from manifests or a cluster, and the results of checks run on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PASS = "pass"
FAIL = "fail"

CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
    "CustomResourceDefinition", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "PriorityClass", "RuntimeClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "CertificateSigningRequest", "APIService", "IngressClass", "CSIDriver", "CSINode", "VolumeAttachment",
})
"""Kinds without a namespace (the built-in ones containerguard looks at or commonly meets)."""


@dataclass(frozen=True)
class K8sObject:
    """One Kubernetes object: its identity, its content as a plain dict and where it was read."""

    kind: str
    api_version: str
    namespace: str
    """``metadata.namespace``; empty for cluster-scoped kinds and for manifests that leave it unset."""
    name: str
    raw: Mapping[str, Any] = field(compare=False, repr=False, hash=False)
    """The object as decoded (never mutated)."""
    source: str = ""
    """The manifest file it came from (``-`` for stdin), or ``cluster:<server>`` for the live API."""
    line: int = 0
    """1-based line where the object starts in ``source`` (0 when unknown, e.g. live objects)."""

    @property
    def metadata(self) -> Mapping[str, Any]:
        """``metadata`` (empty mapping when missing or malformed)."""
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def uid(self) -> str:
        """``metadata.uid`` (live objects and kubectl dumps carry one)."""
        return str(self.metadata.get("uid") or "")

    @property
    def ref(self) -> str:
        """``Kind/namespace/name`` (``Kind/name`` for objects without a namespace): how reports name it."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def cluster_scoped(self) -> bool:
        """True for kinds that live outside namespaces."""
        return self.kind in CLUSTER_SCOPED_KINDS


@dataclass(frozen=True)
class K8sSkipped:
    """A document, file or API kind that could not be read or assessed, and why."""

    source: str
    reason: str
    line: int = 0


@dataclass(frozen=True)
class ControlRef:
    """A control of a standard that a check implements, e.g. ``("cis-k8s", "5.2.2")``."""

    standard: str
    """``pss-baseline``, ``pss-restricted``, ``cis-k8s`` or ``defender``."""
    control: str
    """The control's id or name in that standard (CIS section number, PSS control name, Defender title)."""


@dataclass(frozen=True)
class K8sCheckSpec:
    """Static description of one Kubernetes check."""

    id: str
    """Stable id, e.g. ``CG-K8S-PSS-002``; never reused for another meaning."""
    title: str
    severity: str
    """One of ``CRITICAL``, ``HIGH``, ``MEDIUM``, ``LOW``."""
    controls: tuple[ControlRef, ...]
    remediation: str
    description: str = ""
    category: str = ""
    """``pod-security``, ``workload``, ``rbac`` or ``network``."""

    @property
    def standards(self) -> tuple[str, ...]:
        """The standards this check belongs to, in declaration order."""
        return tuple(dict.fromkeys(c.standard for c in self.controls))


@dataclass(frozen=True)
class K8sCheckResult:
    """The verdict of one check on one resource."""

    check_id: str
    title: str
    severity: str
    standards: tuple[str, ...]
    status: str
    """``pass`` or ``fail``."""
    resource: str
    """The resource's :attr:`K8sObject.ref`."""
    message: str = ""
    """Why it failed (every violation, ``; ``-separated); empty on pass."""
    file: str = ""
    line: int = 0
    kind: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True)
class K8sAudit:
    """Everything one ``scan k8s`` learnt: the checks run, their results, and what was skipped."""

    specs: tuple[K8sCheckSpec, ...]
    results: tuple[K8sCheckResult, ...]
    skipped: tuple[K8sSkipped, ...] = ()
    objects: int = 0
    """How many objects were read."""
    standard: str = ""
    """The standard the run was limited to (empty: every check)."""
    notes: tuple[str, ...] = ()
    """Checks not run and why (e.g. an allow-list that was not configured)."""

    @property
    def failures(self) -> tuple[K8sCheckResult, ...]:
        """The failing results."""
        return tuple(r for r in self.results if r.status == FAIL)


@dataclass(frozen=True)
class K8sCollected:
    """What a source read: the objects, and what it had to skip (bad documents, forbidden kinds)."""

    objects: tuple[K8sObject, ...]
    skipped: tuple[K8sSkipped, ...] = ()
