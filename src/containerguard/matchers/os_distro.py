"""OS packages (deb, apk, rpm), scoped to the image's distro release.

Debian, Ubuntu and Alpine key their records by *source* package (OSV: "the name is the name of the
source package"; Alpine's source is the ``origin``), so a binary such as ``libssl3`` is looked up as
``openssl`` and compared at its source version (a binNMU ``+b1`` binary keeps its source's version).
A package without source information is looked up by its own name.

RPM: Rocky Linux, AlmaLinux, SUSE and openSUSE key records by source RPM; Red Hat's OSV data names
binary *or* source RPMs (its records list each binary of an erratum) and Photon OS names the RPM.
So rpm packages are looked up under both the binary and the source name (a record found under both
counts once) and compared at the binary's ``[epoch:]version-release``: source and binary RPMs of a
build share version-release, and only the binary header carries the epoch that records use.
Wolfi and Chainguard records name the package; they are looked up under origin and name too.
"""

from __future__ import annotations

from containerguard.models.sbom import Distro, Package
from containerguard.registry import register

from .base import Lookup, Matcher
from .ecosystems import OS_TYPES, resolve_os

_BOTH_NAMES = frozenset({"wolfi", "chainguard"})


@register("matcher")
class OsDistroMatcher(Matcher):
    """deb, apk and rpm packages against their distro release's records."""

    name = "os-distro"

    def handles(self, package: Package, distro: Distro | None) -> bool:
        """Every OS package type."""
        return package.type in OS_TYPES

    def lookup(self, package: Package, distro: Distro | None, available: frozenset[str]) -> Lookup:
        """Source name and version for deb/apk; binary and source names at the full EVR for rpm."""
        resolution = resolve_os(distro, available)
        if package.type == "rpm":
            names = tuple(dict.fromkeys(n for n in (package.name, package.source_name) if n))
            return Lookup(resolution, names, package.full_version, "version")
        if package.source_name:
            names = (package.source_name,)
            if distro is not None and distro.id in _BOTH_NAMES:
                names = tuple(dict.fromkeys((package.source_name, package.name)))
            version = package.source_version or package.version
            field = "source_version" if package.source_version else "version"
            return Lookup(resolution, names, version, field)
        return Lookup(resolution, (package.name,), package.version, "version")
