"""The SBOM format plugin interface: write an :class:`Sbom` to text, read one back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from containerguard.errors import SbomError
from containerguard.models.sbom import Sbom
from containerguard.registry import load_plugins, plugins


class SbomFormat(ABC):
    """One SBOM document format."""

    name: ClassVar[str]
    """Format name on the command line (``cyclonedx``, ``spdx``, ``json``)."""

    @abstractmethod
    def write(self, sbom: Sbom) -> str:
        """Serialise ``sbom``."""

    @abstractmethod
    def detect(self, document: dict[str, Any]) -> bool:
        """Whether a parsed JSON document is in this format."""

    @abstractmethod
    def read(self, document: dict[str, Any]) -> Sbom:
        """Rebuild the models from a parsed document; raise :class:`SbomError` when malformed."""


def sbom_formats() -> dict[str, SbomFormat]:
    """Every registered SBOM format, by name."""
    load_plugins("containerguard.sbom.formats")
    return {name: cls() for name, cls in plugins("sbom-format").items()}


def get_format(name: str) -> SbomFormat:
    """The format called ``name``, or :class:`SbomError` listing the known ones."""
    formats = sbom_formats()
    if name not in formats:
        raise SbomError(f"unknown SBOM format {name!r} (known: {', '.join(sorted(formats))})")
    return formats[name]


def read_document(document: dict[str, Any]) -> Sbom:
    """Detect the format of a parsed SBOM document and read it."""
    for fmt in sbom_formats().values():
        if fmt.detect(document):
            return fmt.read(document)
    raise SbomError("not a CycloneDX, SPDX or containerguard SBOM document")
