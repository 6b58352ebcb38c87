"""The Kubernetes check interface, the object index checks read, and pod-spec helpers.

A check is one class with a :class:`K8sCheckSpec`, ``targets(inventory)`` (the objects it assesses)
and ``assess(object, inventory, config)`` (the violations; none means pass). Most checks are
:class:`PodCheck` (one pod spec at a time, at the workload's controller) or :class:`ObjectCheck`
(one object of given kinds at a time). Checks never do I/O.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from containerguard.models.k8s import ControlRef, K8sCheckSpec, K8sObject

POD_KINDS = frozenset({"Pod", "PodTemplate"})
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                            "ReplicationController"})
POD_SPEC_KINDS = POD_KINDS | WORKLOAD_KINDS
"""Kinds that carry a pod spec (directly or in a template)."""

Violations = list[str]


@dataclass(frozen=True)
class K8sCheckConfig:
    """The allow-lists Defender-style checks compare against (empty: that check is not run)."""

    allowed_registries: tuple[str, ...] = ()
    """Regular expressions an image reference must match from its start (e.g. ``registry\\.example\\.com/``)."""
    allowed_service_ports: tuple[int, ...] = ()
    allowed_host_paths: tuple[str, ...] = ()
    """Host path prefixes a hostPath volume may use; with none, every hostPath volume fails."""
    allowed_host_ports: tuple[int, ...] = ()
    """Host ports a container may bind; with none, every host port fails."""
    allowed_capabilities: tuple[str, ...] = ()
    """Capabilities a container may add (least privilege); with none, any added capability fails."""


def pss_controls(control: str, *, restricted_too: bool = True, level: str = "baseline") -> tuple[ControlRef, ...]:
    """The PSS control refs of a check: Baseline controls are part of Restricted unless Restricted
    overrides them with a stricter variant (``restricted_too=False``)."""
    if level == "restricted":
        return (ControlRef("pss-restricted", control),)
    refs = [ControlRef("pss-baseline", control)]
    if restricted_too:
        refs.append(ControlRef("pss-restricted", control))
    return tuple(refs)


def cis(*sections: str) -> tuple[ControlRef, ...]:
    """CIS Kubernetes Benchmark section refs."""
    return tuple(ControlRef("cis-k8s", s) for s in sections)


def defender(title: str) -> tuple[ControlRef, ...]:
    """A Microsoft Defender for Cloud recommendation ref."""
    return (ControlRef("defender", title),)


class Inventory:
    """The object set under assessment, indexed for checks that look across objects."""

    def __init__(self, objects: Iterable[K8sObject]) -> None:
        self.objects: tuple[K8sObject, ...] = tuple(objects)
        self._by_kind: dict[str, list[K8sObject]] = {}
        self._by_key: dict[tuple[str, str, str], K8sObject] = {}
        self._uids: set[str] = set()
        self._pods: dict[int, Pod] | None = None
        for obj in self.objects:
            self._by_kind.setdefault(obj.kind, []).append(obj)
            self._by_key.setdefault((obj.kind, obj.namespace, obj.name), obj)
            if obj.uid:
                self._uids.add(obj.uid)

    def of_kind(self, *kinds: str) -> Iterator[K8sObject]:
        """Objects of the given kinds, in reading order per kind."""
        for kind in kinds:
            yield from self._by_kind.get(kind, ())

    def pods(self) -> list[Pod]:
        """The pod specs to assess: one per workload, at its top-most controller in the set."""
        return list(self._pod_index().values())

    def pod(self, obj: K8sObject) -> Pod | None:
        """The pod view of ``obj`` when it is assessed as a workload."""
        return self._pod_index().get(id(obj))

    def _pod_index(self) -> dict[int, Pod]:
        if self._pods is None:
            self._pods = {}
            for obj in self.objects:
                if obj.kind in POD_SPEC_KINDS and not self.controlled(obj):
                    template = pod_template(obj)
                    if template is not None:
                        self._pods[id(obj)] = Pod(obj, template[0], template[1])
        return self._pods

    def get(self, kind: str, namespace: str, name: str) -> K8sObject | None:
        """One object by identity."""
        return self._by_key.get((kind, namespace, name))

    def controlled(self, obj: K8sObject) -> bool:
        """True when ``obj`` is managed by a controller that is itself in the set (a Deployment's
        ReplicaSet, a ReplicaSet's Pod, a CronJob's Job): it is assessed at that controller."""
        refs = obj.metadata.get("ownerReferences")
        if not isinstance(refs, list):
            return False
        for ref in refs:
            if not isinstance(ref, Mapping) or ref.get("controller") is not True:
                continue
            uid = ref.get("uid")
            if uid and uid in self._uids:
                return True
            if self.get(str(ref.get("kind") or ""), obj.namespace, str(ref.get("name") or "")) is not None:
                return True
        return False


_EMPTY: Mapping[str, Any] = {}


def as_map(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (manifests may hold anything)."""
    # type() first: the ABC isinstance check is slow and decoded manifests are plain dicts.
    return value if type(value) is dict or isinstance(value, Mapping) else _EMPTY


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def pod_template(obj: K8sObject) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(metadata, spec) of the pod an object runs, or None when it carries no pod spec."""
    raw = obj.raw
    if obj.kind == "Pod":
        return as_map(raw.get("metadata")), as_map(raw.get("spec"))
    if obj.kind == "PodTemplate":
        template = as_map(raw.get("template"))
    elif obj.kind == "CronJob":
        template = as_map(as_map(as_map(as_map(raw.get("spec")).get("jobTemplate")).get("spec")).get("template"))
    elif obj.kind in WORKLOAD_KINDS:
        template = as_map(as_map(raw.get("spec")).get("template"))
    else:
        return None
    return as_map(template.get("metadata")), as_map(template.get("spec"))


@dataclass(frozen=True)
class Container:
    """One container of a pod spec and which list it came from."""

    name: str
    kind: str
    """``container``, ``initContainer`` or ``ephemeralContainer``."""
    raw: Mapping[str, Any]

    @property
    def security_context(self) -> Mapping[str, Any]:
        """``securityContext`` (empty when unset)."""
        return as_map(self.raw.get("securityContext"))

    def label(self) -> str:
        """How messages name it, e.g. ``container "app"``."""
        return f'{self.kind} "{self.name}"'


@dataclass(frozen=True)
class Pod:
    """The pod spec a check assesses, with the object it belongs to."""

    obj: K8sObject
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]

    @property
    def security_context(self) -> Mapping[str, Any]:
        """Pod-level ``securityContext`` (empty when unset)."""
        return as_map(self.spec.get("securityContext"))

    def containers(self, *, ephemeral: bool = True) -> tuple[Container, ...]:
        """Init containers, containers then ephemeral containers: the order and set the pod-security
        admission controller visits (ephemeral containers left out with ``ephemeral=False``)."""
        return self._all_containers if ephemeral else self._regular_containers

    @cached_property
    def _all_containers(self) -> tuple[Container, ...]:
        return self._regular_containers + self._list("ephemeralContainers", "ephemeralContainer")

    @cached_property
    def _regular_containers(self) -> tuple[Container, ...]:
        return self._list("initContainers", "initContainer") + self._list("containers", "container")

    def _list(self, field: str, kind: str) -> tuple[Container, ...]:
        return tuple(Container(str(raw.get("name") or "?"), kind, raw)
                     for raw in as_list(self.spec.get(field)) if isinstance(raw, Mapping))

    @property
    def windows(self) -> bool:
        """``spec.os.name: windows`` (Restricted exempts such pods from Linux-only controls)."""
        return as_map(self.spec.get("os")).get("name") == "windows"

    @property
    def user_namespace(self) -> bool:
        """``spec.hostUsers: false``: the pod runs in a user namespace."""
        return self.spec.get("hostUsers") is False


class K8sCheck(ABC):
    """One Kubernetes check. Subclasses set :attr:`spec` and are decorated ``@register("k8s-check")``."""

    spec: ClassVar[K8sCheckSpec]
    name: ClassVar[str]
    """Registry key: the check id (set from :attr:`spec`)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            cls.name = cls.spec.id

    def not_run_reason(self, config: K8sCheckConfig) -> str:
        """Why this check cannot run with ``config`` (an allow-list it needs is empty); empty when it can."""
        return ""

    @abstractmethod
    def targets(self, inventory: Inventory) -> Iterator[K8sObject]:
        """The objects this check assesses."""

    @abstractmethod
    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """What is wrong with ``obj`` (empty: pass)."""


class ObjectCheck(K8sCheck):
    """A check on each object of :attr:`kinds`."""

    kinds: ClassVar[frozenset[str]]

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Whether ``obj`` is assessed at all (default: every object of :attr:`kinds`)."""
        return True

    def targets(self, inventory: Inventory) -> Iterator[K8sObject]:
        """Every applicable object of :attr:`kinds`."""
        for obj in inventory.objects:
            if obj.kind in self.kinds and self.applies(obj, inventory):
                yield obj


class PodCheck(ObjectCheck):
    """A check on pod specs, assessed once per workload at its top-most controller in the set."""

    kinds: ClassVar[frozenset[str]] = POD_SPEC_KINDS

    def targets(self, inventory: Inventory) -> Iterator[K8sObject]:
        """Objects with a pod spec that no controller in the set manages."""
        return iter([pod.obj for pod in inventory.pods()])

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """The pod-level verdict of :meth:`check_pod`."""
        pod = inventory.pod(obj)
        return [] if pod is None else self.check_pod(pod, config, inventory)

    @abstractmethod
    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """What is wrong with this pod spec (empty: pass)."""


def quote_list(items: Iterable[str]) -> str:
    """``"a", "b"`` (sorted, de-duplicated) for messages."""
    return ", ".join(f'"{i}"' for i in sorted(set(items)))


_IMAGE_RE = re.compile(
    r"^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[A-Za-z0-9_+.-]+:[0-9a-fA-F]+))?$")


def split_image(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference; a ``:port`` in the registry host is not a tag."""
    match = _IMAGE_RE.match(image.strip())
    if match is None:
        return image, "", ""
    name, tag, digest = match.group("name"), match.group("tag") or "", match.group("digest") or ""
    if tag and "/" in tag:
        name, tag = f"{name}:{tag}", ""
    return name, tag, digest
