"""One error base per stage; only the CLI and API turn these into exit codes or HTTP answers."""

from __future__ import annotations


class ContainerGuardError(Exception):
    """Base of every error containerguard raises on purpose."""


class ConfigError(ContainerGuardError):
    """Bad settings or bad command-line input."""


class SourceError(ContainerGuardError):
    """An image source (registry, archive, layout, daemon, rootfs) failed or gave bad data."""


class AuthError(SourceError):
    """A registry refused our credentials or asked for ones we do not have."""


class DigestMismatch(SourceError):
    """A blob or manifest did not hash to the digest that named it."""


class LayerError(ContainerGuardError):
    """A layer could not be read safely: truncated, hostile, or over a size limit."""


class CollectError(ContainerGuardError):
    """A collector could not parse a file it asked for."""


class SbomError(ContainerGuardError):
    """An SBOM document could not be read or written."""


class VersionError(ContainerGuardError):
    """A version string is not valid in its scheme."""


class FeedError(ContainerGuardError):
    """An advisory feed could not be read or imported."""


class VulnDbError(ContainerGuardError):
    """The vulnerability database is missing, damaged or from a newer schema."""


class PolicyError(ContainerGuardError):
    """An ignore file or VEX document is malformed."""
