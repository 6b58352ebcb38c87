"""Which OSV ecosystem(s) and package name a package is recorded under.

OSV scopes distro records by release (``Debian:12``, ``Ubuntu:22.04:LTS``, ``Alpine:v3.18``…) and
names language packages in each ecosystem's own way (``group:artifact`` for Maven, ``vendor/name``
for Packagist, the module path for Go). This module is the single place that knows those rules.

Some vendors scope records by product stream rather than release (Red Hat by CPE, SUSE by product
name), so those keys are picked from the ecosystems the database actually holds.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from containerguard.models.sbom import Distro, Package

OS_TYPES = frozenset({"deb", "apk", "rpm"})

LANGUAGE_ECOSYSTEMS: dict[str, str] = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "maven": "Maven",
    "gem": "RubyGems",
    "cargo": "crates.io",
    "composer": "Packagist",
    "nuget": "NuGet",
}
"""purl type -> OSV ecosystem for language packages (not scoped by distro)."""

_NAME_SEPARATOR = {"maven": ":", "golang": "/", "composer": "/", "npm": "/"}

_RHEL_LIKE_SOURCE_KEYED = {"rocky": "Rocky Linux", "almalinux": "AlmaLinux"}
_LTS = re.compile(r"^(\d\d)\.04$")


class Resolution(NamedTuple):
    """Where to look a package up: concrete ecosystem keys present in the database, or why not."""

    keys: tuple[str, ...] = ()
    """Ecosystems to query, in preference order (every one is queried; results are merged)."""
    wanted: str = ""
    """The ecosystem the package belongs to, for "no advisory data for ecosystem X" notes."""
    unsupported: str = ""
    """Set when the package's distro has no OSV ecosystem at all (a reason, not an error)."""


def language_name(package: Package) -> str:
    """The OSV package name of a language package (namespace joined the ecosystem's way)."""
    if package.namespace and package.type in _NAME_SEPARATOR:
        return f"{package.namespace}{_NAME_SEPARATOR[package.type]}{package.name}"
    return package.name


def _major(version_id: str) -> str:
    return version_id.split(".", 1)[0]


def _major_minor(version_id: str) -> str:
    parts = re.split(r"[._-]", version_id)
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[1].isdigit() else ""


def distro_candidates(distro: Distro) -> tuple[tuple[str, ...], str, str]:
    """(exact keys to try, label for notes, unsupported reason) for an OS package's distro.

    Red Hat and SUSE keys are product streams; they are resolved against the database's ecosystems
    by :func:`resolve_os` and only a label is returned here.
    """
    ident, vid = distro.id, distro.version_id
    if ident == "debian":
        if not vid or not _major(vid).isdigit():
            return (), "Debian", "debian without a numeric VERSION_ID (testing/sid has no OSV release)"
        return (f"Debian:{_major(vid)}",), f"Debian:{_major(vid)}", ""
    if ident == "ubuntu":
        if not vid:
            return (), "Ubuntu", "ubuntu without VERSION_ID"
        # LTS releases are the even-year .04 ones; OSV writes them with a mandatory ":LTS" suffix,
        # but some feeds omit it, so both spellings are queried.
        match = _LTS.match(vid)
        if match and int(match.group(1)) % 2 == 0:
            return (f"Ubuntu:{vid}:LTS", f"Ubuntu:{vid}"), f"Ubuntu:{vid}:LTS", ""
        return (f"Ubuntu:{vid}",), f"Ubuntu:{vid}", ""
    if ident == "alpine":
        release = _major_minor(vid)
        if not release:
            return (), "Alpine", f"alpine with an unusable VERSION_ID {vid!r}"
        return (f"Alpine:v{release}",), f"Alpine:v{release}", ""
    if ident == "wolfi":
        return ("Wolfi",), "Wolfi", ""
    if ident == "chainguard":
        return ("Chainguard",), "Chainguard", ""
    if ident in _RHEL_LIKE_SOURCE_KEYED:
        name = _RHEL_LIKE_SOURCE_KEYED[ident]
        if not vid:
            return (), name, f"{ident} without VERSION_ID"
        return (f"{name}:{_major(vid)}",), f"{name}:{_major(vid)}", ""
    if ident == "rhel":
        if not vid:
            return (), "Red Hat", "rhel without VERSION_ID"
        return (), f"Red Hat:enterprise_linux:{_major(vid)}", ""
    if ident == "photon":
        return (f"Photon OS:{vid}",), f"Photon OS:{vid}", ""
    if ident == "mageia":
        return (f"Mageia:{vid}",), f"Mageia:{vid}", ""
    if ident == "opensuse-tumbleweed":
        return ("openSUSE:Tumbleweed",), "openSUSE:Tumbleweed", ""
    if ident == "opensuse-leap":
        return (f"openSUSE:Leap {vid}",), f"openSUSE:Leap {vid}", ""
    if ident.startswith(("sles", "sle")):
        return (), f"SUSE:{_suse_product(distro)}", ""
    return (), ident or "unknown", f"no OSV ecosystem for distro {ident or 'unknown'!r}"


def _suse_product(distro: Distro) -> str:
    # OSV's SUSE release is the product's marketing name, i.e. PRETTY_NAME without the vendor word.
    pretty = distro.pretty_name or distro.name
    return pretty.removeprefix("SUSE ").strip()


def _suse_suffix(version_id: str) -> str:
    major, _, minor = version_id.partition(".")
    return f" {major} SP{minor}" if minor and minor != "0" else f" {major}"


def resolve_os(distro: Distro | None, available: frozenset[str]) -> Resolution:
    """The ecosystems an OS package of ``distro`` is looked up in, limited to ``available`` ones."""
    if distro is None:
        return Resolution(wanted="unknown", unsupported="no distro detected (no os-release)")
    exact, label, reason = distro_candidates(distro)
    if reason:
        return Resolution(wanted=label, unsupported=reason)
    if distro.id == "rhel":
        # Red Hat streams are CPEs such as "enterprise_linux:9::baseos" / "::appstream"; the
        # installed repository is unknown, so every stream of the major release is consulted.
        keys = tuple(sorted(k for k in available if k == label or k.startswith(label + "::")))
    elif distro.id.startswith(("sles", "sle")):
        # SLES images install from several modules ("Basesystem", "Server Applications"…) that OSV
        # keys separately; every Linux Enterprise product of the same service pack applies.
        suffix = _suse_suffix(distro.version_id)
        keys = tuple(sorted(k for k in available if k == label or (
            k.startswith("SUSE:Linux Enterprise ") and k.endswith(suffix))))
    else:
        keys = tuple(k for k in exact if k in available)
    return Resolution(keys=keys, wanted=label)


def resolve_language(package: Package, available: frozenset[str]) -> Resolution:
    """The ecosystem of a language package, if the database has it."""
    ecosystem = LANGUAGE_ECOSYSTEMS.get(package.type)
    if ecosystem is None:
        return Resolution(wanted=package.type, unsupported=f"no OSV ecosystem for package type {package.type!r}")
    return Resolution(keys=(ecosystem,) if ecosystem in available else (), wanted=ecosystem)
