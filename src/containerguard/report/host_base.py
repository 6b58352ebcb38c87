"""The host audit report plugin interface: a :class:`HostAudit` to text (``scan host -f``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rich.console import Console

from containerguard.errors import ConfigError
from containerguard.models.check import CheckResult, HostAudit
from containerguard.registry import load_plugins, plugins


class HostFormat(ABC):
    """One output format of ``scan host``."""

    name: ClassVar[str]

    @abstractmethod
    def write(self, audit: HostAudit) -> str:
        """The report as text (a file's content)."""

    def show(self, audit: HostAudit, console: Console) -> None:
        """Print the report on a terminal; human formats override this to use colour."""
        console.out(self.write(audit), end="", highlight=False)


def get_host_format(name: str) -> HostFormat:
    """The host report format called ``name``, or :class:`ConfigError` listing the known ones."""
    load_plugins("containerguard.report")
    known = plugins("host-format")
    if name not in known:
        raise ConfigError(f"unknown report format {name!r} for scan host (known: {', '.join(sorted(known))})")
    made: HostFormat = known[name]()
    return made


def inventory_dict(audit: HostAudit) -> dict[str, Any]:
    """The ``host`` object of the JSON report."""
    inv = audit.inventory
    return {
        "hostname": inv.hostname, "os": inv.os, "kernel": inv.kernel, "docker_version": inv.docker_version,
        "api_version": inv.api_version, "storage_driver": inv.storage_driver, "images": inv.images,
        "containers": {"running": inv.containers_running, "stopped": inv.containers_stopped,
                       "items": [{"name": c.name, "image": c.image, "image_id": c.image_id, "state": c.state}
                                 for c in inv.containers]},
        "benchmark": audit.benchmark,
        "all_containers": audit.all_containers,
        "health": audit.recommendation.status,
        "recommendation": audit.recommendation.name,
        "failed_scored_controls": len(audit.recommendation.sub_assessments),
    }


def result_dict(r: CheckResult) -> dict[str, Any]:
    """One result of the JSON report."""
    return {"id": r.id, "title": r.title, "status": r.status.value, "resource": r.resource,
            "evidence": r.evidence, "remediation": r.remediation, "level": r.level, "automated": r.automated,
            "section": r.section}
