"""Package-name and ecosystem normalisation, shared by the importers and lookups.

The store indexes names in normalised form and :meth:`SqliteVulnStore.lookup` normalises the raw
name a matcher passes, so ``Django`` finds records filed under ``django``.
"""

from __future__ import annotations

import re

_PEP503_RUN = re.compile(r"[-_.]+")

KNOWN_ECOSYSTEMS = frozenset({
    "AlmaLinux", "Alpaquita", "Alpine", "Android", "BellSoft Hardened Containers", "Bioconductor",
    "Bitnami", "Chainguard", "CRAN", "crates.io", "Debian", "GHC", "GIT", "GitHub Actions", "Go",
    "Hackage", "Hex", "Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet", "openEuler", "openSUSE",
    "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat", "Rocky Linux", "RubyGems",
    "SUSE", "SwiftURL", "Ubuntu", "VSCode", "Wolfi",
})
"""OSV ecosystem names (the part before the first ``:``) as published by OSV.dev. Records for other
ecosystems are still stored (they simply never match) and reported at import."""


def ecosystem_base(ecosystem: str) -> str:
    """The OSV ecosystem without its release suffix: ``Debian:12`` -> ``Debian``."""
    return ecosystem.split(":", 1)[0]


def normalise_ecosystem(ecosystem: str) -> str:
    """OSV ecosystems are case-sensitive identifiers (``Debian:12``, ``Ubuntu:22.04:LTS``); only
    surrounding blanks are dropped so a record and a lookup spell them alike."""
    return ecosystem.strip()


def is_known_ecosystem(ecosystem: str) -> bool:
    """Whether the base of ``ecosystem`` is an OSV ecosystem containerguard knows of."""
    return ecosystem_base(ecosystem) in KNOWN_ECOSYSTEMS


def normalise_name(ecosystem: str, name: str) -> str:
    """The form a package name is indexed and looked up under in ``ecosystem``.

    PyPI follows PEP 503 (case-insensitive, runs of ``-_.`` equal). npm, NuGet and Packagist
    compare names case-insensitively (npm forbids new upper-case names but old records such as
    ``Axios`` exist). Go module paths, Maven coordinates, RubyGems and the distributions' package
    names are case-sensitive and are kept as written.
    """
    base = ecosystem_base(ecosystem)
    name = name.strip()
    if base == "PyPI":
        return _PEP503_RUN.sub("-", name).lower()
    if base in ("npm", "NuGet", "Packagist"):
        return name.lower()
    return name
