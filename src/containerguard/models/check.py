"""Check results: one control of a benchmark evaluated on one resource, with the fact it read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one control on one resource."""

    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    """Cannot be decided automatically: the evidence says what a person must look at."""
    INFO = "INFO"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True)
class CheckResult:
    """One control evaluated on one resource (the host, the daemon, a container, an image…)."""

    id: str
    """Benchmark numbering, e.g. ``5.5``."""
    title: str
    status: Status
    resource: str | None
    """Container or image name for per-container/per-image controls, else ``None``."""
    evidence: str
    """The fact the check read (or, for WARN, what a person must check)."""
    remediation: str
    level: int
    """CIS profile level (1 or 2)."""
    automated: bool
    """Automated (scored) or Manual in the benchmark."""
    section: str
    """Top-level benchmark section number, e.g. ``5``."""
    check: str = ""
    """Name of the check plugin that produced the result."""


@dataclass(frozen=True)
class ContainerSummary:
    """One container in a host inventory."""

    name: str
    image: str
    """The image reference it was created from."""
    image_id: str
    state: str
    """Engine state: running, exited, created, paused…"""


@dataclass(frozen=True)
class HostInventory:
    """What a Docker host runs, from its snapshot."""

    hostname: str
    os: str
    kernel: str
    docker_version: str
    api_version: str
    storage_driver: str
    images: int
    containers_running: int
    containers_stopped: int
    containers: tuple[ContainerSummary, ...] = ()


@dataclass(frozen=True)
class SubAssessment:
    """One failed control on one resource, under the host recommendation."""

    id: str
    title: str
    resource: str | None
    evidence: str
    remediation: str


@dataclass(frozen=True)
class HostRecommendation:
    """The host-level assessment: Unhealthy when any control fails (Automated or Manual; see pipeline/audit.py)."""

    name: str
    status: str
    """``Healthy`` or ``Unhealthy``."""
    sub_assessments: tuple[SubAssessment, ...] = ()


@dataclass(frozen=True)
class HostAudit:
    """A Docker host assessed against a benchmark."""

    benchmark: str
    """E.g. ``CIS Docker Benchmark v1.6.0``."""
    inventory: HostInventory
    results: tuple[CheckResult, ...]
    recommendation: HostRecommendation
    sections: tuple[tuple[str, str], ...] = ()
    """(number, title) of the benchmark's top-level sections, in order."""
    all_containers: bool = False
    """Section 5 assessed stopped and created containers too."""
