"""Advisories as the vulnerability database holds them (an OSV-shaped model, feed-independent)."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")
"""Severity levels, most severe first."""


@dataclass(frozen=True)
class Severity:
    """One severity statement about an advisory, and where it came from."""

    level: str
    """One of :data:`SEVERITY_LEVELS`."""
    source: str
    """What produced it: ``cvss_v3``, ``cvss_v4``, ``cvss_v2``, ``debian-urgency``, ``ghsa``,
    ``ubuntu-priority``, ``nvd``…"""
    score: float | None = None
    vector: str = ""


@dataclass(frozen=True)
class RangeEvent:
    """One OSV range event: exactly one of introduced / fixed / last_affected / limit."""

    kind: str
    """``introduced``, ``fixed``, ``last_affected`` or ``limit``."""
    version: str


@dataclass(frozen=True)
class AffectedRange:
    """An OSV range: ``ECOSYSTEM``, ``SEMVER`` or ``GIT`` (GIT ranges never match packages)."""

    type: str
    events: tuple[RangeEvent, ...]


@dataclass(frozen=True)
class Affected:
    """The packages of one ecosystem an advisory affects."""

    ecosystem: str
    """Normalised OSV ecosystem: ``Debian:12``, ``Ubuntu:22.04:LTS``, ``Alpine:v3.18``, ``PyPI``, ``npm``,
    ``Go``, ``Maven``, ``crates.io``, ``RubyGems``, ``NuGet``, ``Packagist``…"""
    package: str
    """Package name as the feed writes it (source package for Debian/Ubuntu/Alpine records)."""
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    """Explicitly affected versions."""
    purl: str = ""
    fix_state: str = ""
    """``fixed`` when a range has a ``fixed`` event; else ``not-fixed``, ``will-not-fix`` (no-dsa,
    ignored, postponed) or ``not-affected`` as the feed says."""
    severity: tuple[Severity, ...] = ()
    """Severities specific to this package (e.g. Debian urgency, Ubuntu priority)."""


@dataclass(frozen=True)
class Advisory:
    """One vulnerability record."""

    id: str
    source: str
    """The feed it came from: ``osv``, ``debian-tracker``, ``alpine-secdb``…"""
    modified: str
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: str = ""
    withdrawn: str = ""
    severity: tuple[Severity, ...] = ()
    references: tuple[str, ...] = ()
    affected: tuple[Affected, ...] = ()
