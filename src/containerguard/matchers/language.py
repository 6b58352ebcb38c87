"""Language packages (PyPI, npm, Go, Maven, RubyGems, crates.io, Packagist, NuGet).

These ecosystems are not scoped by distro: a package is looked up by its OSV name (Maven
``group:artifact``, Packagist ``vendor/name``, npm ``@scope/name``, Go module path, Go's toolchain
as ``stdlib``) and compared at its own version.
"""

from __future__ import annotations

from containerguard.models.sbom import Distro, Package
from containerguard.registry import register

from .base import Lookup, Matcher
from .ecosystems import LANGUAGE_ECOSYSTEMS, language_name, resolve_language


@register("matcher")
class LanguageMatcher(Matcher):
    """Language packages by ecosystem, name and version."""

    name = "language"

    def handles(self, package: Package, distro: Distro | None) -> bool:
        """Every package type with an OSV language ecosystem."""
        return package.type in LANGUAGE_ECOSYSTEMS

    def lookup(self, package: Package, distro: Distro | None, available: frozenset[str]) -> Lookup:
        """The package's OSV name at its version."""
        return Lookup(resolve_language(package, available), (language_name(package),), package.version, "version")
