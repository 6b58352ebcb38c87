"""The inventory: distro, packages and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from containerguard.models.artifact import ImageMetadata


@dataclass(frozen=True)
class Distro:
    """The operating system of an image, from os-release and friends."""

    id: str
    """Lower-case os-release ID: debian, ubuntu, alpine, rhel, rocky, almalinux, amzn, sles,
    opensuse-leap, wolfi, chainguard, centos, fedora, ol…"""
    version_id: str = ""
    name: str = ""
    pretty_name: str = ""
    codename: str = ""
    id_like: tuple[str, ...] = ()
    distroless: bool = False


@dataclass(frozen=True)
class Location:
    """Where a package was found: the file and the layer that holds it."""

    path: str
    layer_digest: str = ""
    """The layer's diff_id."""


@dataclass(frozen=True)
class Package:
    """One installed package. ``type`` is the purl type (deb, apk, rpm, pypi, npm, golang, maven,
    gem, cargo, composer, nuget)."""

    type: str
    name: str
    version: str
    namespace: str = ""
    """purl namespace: maven groupId, npm scope (with @), golang module path prefix, distro id for OS."""
    arch: str = ""
    source_name: str = ""
    source_version: str = ""
    epoch: int | None = None
    release: str = ""
    """rpm release (version holds only the rpm version)."""
    licenses: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    purl: str = ""
    dev: bool = False
    """Declared only as a development dependency (lockfiles)."""

    @property
    def full_version(self) -> str:
        """The version as the ecosystem writes it (rpm: ``[epoch:]version-release``)."""
        if self.type == "rpm":
            base = f"{self.version}-{self.release}" if self.release else self.version
            return f"{self.epoch}:{base}" if self.epoch else base
        return self.version


@dataclass(frozen=True)
class Skipped:
    """Something not inventoried, and why (a skipped thing is data, not an exception)."""

    path: str
    reason: str
    layer_digest: str = ""


@dataclass(frozen=True)
class Collected:
    """What one collector found in one file."""

    packages: tuple[Package, ...] = ()
    distro: Distro | None = None
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True)
class Sbom:
    """The full inventory of one artifact."""

    artifact: ImageMetadata
    distro: Distro | None
    packages: tuple[Package, ...]
    skipped: tuple[Skipped, ...] = ()
    tool: str = field(default="containerguard")
