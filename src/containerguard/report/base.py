"""The vulnerability report plugin interface: a :class:`ScanResult` (after policy) to text."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import ClassVar

from rich.console import Console

from containerguard.errors import ConfigError
from containerguard.models.report import ScanResult
from containerguard.registry import load_plugins, plugins


class VulnFormat(ABC):
    """One output format of ``scan image`` / ``scan sbom``."""

    name: ClassVar[str]
    """Format name on the command line (``table``, ``json``, ``sarif``, ``cyclonedx``)."""

    @abstractmethod
    def write(self, result: ScanResult) -> str:
        """The report as text (a file's content)."""

    def show(self, result: ScanResult, console: Console) -> None:
        """Print the report on a terminal; formats for humans override this to use colour."""
        console.out(self.write(result), end="", highlight=False)


def vuln_formats() -> dict[str, VulnFormat]:
    """Every registered report format, by name."""
    load_plugins("containerguard.report")
    return {name: cls() for name, cls in plugins("vuln-format").items()}


def get_vuln_format(name: str) -> VulnFormat:
    """The format called ``name``, or :class:`ConfigError` listing the known ones.

    The format's conventional module (``vuln_<name>``) is tried first, so a scan imports the one
    format it writes rather than all of them; any other name loads every plugin to look."""
    if name not in plugins("vuln-format") and name.isidentifier():
        module = f"{__package__}.vuln_{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    cls = plugins("vuln-format").get(name)
    if cls is not None:
        return cls()  # type: ignore[no-any-return]
    formats = vuln_formats()
    if name not in formats:
        raise ConfigError(f"unknown report format {name!r} (known: {', '.join(sorted(formats))})")
    return formats[name]
