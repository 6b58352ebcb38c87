"""The Kubernetes report plugin interface: a :class:`K8sAudit` to text (``scan k8s -f``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from rich.console import Console

from containerguard.errors import ConfigError
from containerguard.models.k8s import K8sAudit
from containerguard.registry import load_plugins, plugins


class K8sFormat(ABC):
    """One output format of ``scan k8s``."""

    name: ClassVar[str]

    @abstractmethod
    def write(self, audit: K8sAudit) -> str:
        """The report as text."""

    def show(self, audit: K8sAudit, console: Console) -> None:
        """Print on a terminal; formats for humans override this to use colour."""
        console.out(self.write(audit), end="", highlight=False)


def get_k8s_format(name: str) -> K8sFormat:
    """The format called ``name``, or :class:`ConfigError` listing the known ones."""
    load_plugins("containerguard.report")
    formats = plugins("k8s-format")
    if name not in formats:
        raise ConfigError(f"unknown report format {name!r} for scan k8s (known: {', '.join(sorted(formats))})")
    instance: K8sFormat = formats[name]()
    return instance
