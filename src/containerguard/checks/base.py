"""The Docker host check plugin: static control metadata plus ``run(snapshot) -> list[CheckResult]``.

A check evaluates one benchmark control on a :class:`HostSnapshot`, without I/O. Most controls are a
small function wrapped by :func:`control`, which builds the :class:`Check` for its scope:

- ``host``, ``daemon``, ``swarm``: ``fn(snapshot) -> Outcome`` — one result, resource ``None``;
- ``container``: ``fn(container, snapshot) -> Outcome`` — one result per container in the snapshot
  (the audit decides which containers the snapshot holds: running ones, or all);
- ``image``: ``fn(image, snapshot) -> Outcome`` — one result per image.

Registration is explicit, one decorator per control::

    @register("check")
    @control("container-privileged", "5.5", "Ensure that privileged containers are not used", ...)
    def privileged(c: Container, s: HostSnapshot) -> Outcome: ...

The benchmark YAML (``checks/benchmarks/*.yaml``) maps control ids to these check names, so another
benchmark version renumbers controls without touching a check.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from containerguard.checks.docker_facts import Container, Image
from containerguard.models.check import CheckResult, Status
from containerguard.models.snapshot import HostSnapshot
from containerguard.registry import load_plugins, plugins

Scope = Literal["host", "daemon", "container", "image", "swarm"]
SCOPES: tuple[Scope, ...] = ("host", "daemon", "container", "image", "swarm")


@dataclass(frozen=True)
class Outcome:
    """What a check concluded about one resource, and the fact it read."""

    status: Status
    evidence: str


def passed(evidence: str) -> Outcome:
    """PASS with the fact read."""
    return Outcome(Status.PASS, evidence)


def failed(evidence: str) -> Outcome:
    """FAIL with the fact read."""
    return Outcome(Status.FAIL, evidence)


def warn(evidence: str) -> Outcome:
    """WARN: cannot be decided automatically; ``evidence`` says what a person must check."""
    return Outcome(Status.WARN, evidence)


def info(evidence: str) -> Outcome:
    """INFO: a fact for review (Manual controls)."""
    return Outcome(Status.INFO, evidence)


def not_applicable(evidence: str) -> Outcome:
    """NOT_APPLICABLE, and why."""
    return Outcome(Status.NOT_APPLICABLE, evidence)


@dataclass(frozen=True)
class Control:
    """Static metadata of a control (the benchmark's words)."""

    id: str
    title: str
    level: int
    automated: bool
    scope: Scope
    rationale: str
    remediation: str

    @property
    def section(self) -> str:
        """Top-level section number (``5`` for ``5.5``)."""
        return self.id.split(".", 1)[0]


class Check(ABC):
    """One benchmark control as a plugin."""

    name: str
    """Stable plugin name used by benchmark YAML files (e.g. ``container-privileged``)."""
    control: Control

    @abstractmethod
    def outcomes(self, snapshot: HostSnapshot) -> list[tuple[str | None, Outcome]]:
        """(resource, outcome) pairs for every resource in scope."""

    def run(self, snapshot: HostSnapshot, control: Control | None = None) -> list[CheckResult]:
        """Evaluate the control; ``control`` overrides id/title/level/automated (from a benchmark file)."""
        meta = control or self.control
        return [CheckResult(id=meta.id, title=meta.title, status=o.status, resource=resource,
                            evidence=o.evidence, remediation=meta.remediation, level=meta.level,
                            automated=meta.automated, section=meta.section, check=self.name)
                for resource, o in self.outcomes(snapshot)]


class HostLevelCheck(Check):
    """A control with one result for the whole host (host, daemon and swarm scopes)."""

    def __init__(self, name: str, control: Control, fn: Callable[[HostSnapshot], Outcome]) -> None:
        self.name = name
        self.control = control
        self.fn = fn

    def outcomes(self, snapshot: HostSnapshot) -> list[tuple[str | None, Outcome]]:
        """The single host-level outcome."""
        return [(None, self.fn(snapshot))]


class ContainerCheck(Check):
    """A control evaluated on every container of the snapshot."""

    def __init__(self, name: str, control: Control, fn: Callable[[Container, HostSnapshot], Outcome]) -> None:
        self.name = name
        self.control = control
        self.fn = fn

    def outcomes(self, snapshot: HostSnapshot) -> list[tuple[str | None, Outcome]]:
        """One outcome per container; NOT_APPLICABLE when there is none to assess."""
        if not snapshot.containers:
            return [(None, not_applicable("no containers to assess (section 5 assesses running containers; "
                                          "use --all-containers for stopped and created ones)"))]
        return [(c.name, self.fn(c, snapshot)) for c in (Container(raw) for raw in snapshot.containers)]


class ImageCheck(Check):
    """A control evaluated on every image of the snapshot."""

    def __init__(self, name: str, control: Control, fn: Callable[[Image, HostSnapshot], Outcome]) -> None:
        self.name = name
        self.control = control
        self.fn = fn

    def outcomes(self, snapshot: HostSnapshot) -> list[tuple[str | None, Outcome]]:
        """One outcome per image; NOT_APPLICABLE when the host has none."""
        if not snapshot.images:
            return [(None, not_applicable("no images on the host"))]
        return [(i.name, self.fn(i, snapshot)) for i in (Image(f) for f in snapshot.images)]


def control(name: str, id: str, title: str, *, level: int, automated: bool, scope: Scope,
            remediation: str, rationale: str = "") -> Callable[[Callable[..., Outcome]], Check]:
    """Wrap a check function into the :class:`Check` of its scope (register the result with ``@register``)."""
    if level not in (1, 2):
        raise ValueError(f"{id}: level must be 1 or 2")
    meta = Control(id=id, title=title, level=level, automated=automated, scope=scope,
                   rationale=rationale, remediation=remediation)

    def wrap(fn: Callable[..., Outcome]) -> Check:
        check: Check
        if scope == "container":
            check = ContainerCheck(name, meta, fn)
        elif scope == "image":
            check = ImageCheck(name, meta, fn)
        else:
            check = HostLevelCheck(name, meta, fn)
        check.__doc__ = fn.__doc__
        return check

    return wrap


def docker_checks() -> dict[str, Check]:
    """Every registered Docker host check, by name."""
    load_plugins("containerguard.checks.docker")
    return {name: obj for name, obj in plugins("check").items() if isinstance(obj, Check)}


def with_metadata(control: Control, **changes: Any) -> Control:
    """A copy of ``control`` with benchmark-file overrides applied."""
    return replace(control, **changes)
