"""Findings: one vulnerability in one package of one artifact, with how it matched."""

from __future__ import annotations

from dataclasses import dataclass

from containerguard.models.advisory import Severity
from containerguard.models.sbom import Package


@dataclass(frozen=True)
class MatchEvidence:
    """Why a package matched an advisory."""

    record: str
    """Advisory id as stored."""
    ecosystem: str
    package: str
    """The name looked up (the source package for distro records)."""
    version: str
    """The version compared."""
    version_field: str
    """Which package field gave ``version``: ``version`` or ``source_version``."""
    range: str
    """Human-readable range or ``versions`` entry that matched, e.g. ``ECOSYSTEM [0, 3.0.11-1~deb12u2)``."""


@dataclass(frozen=True)
class Finding:
    """One vulnerability affecting one package."""

    id: str
    """Primary id shown to users (a CVE id when one is known)."""
    aliases: tuple[str, ...]
    """Every other id of the same vulnerability (GHSA, DSA, OSV record ids…)."""
    package: Package
    installed_version: str
    fixed_version: str
    fix_state: str
    """``fixed``, ``not-fixed``, ``will-not-fix``."""
    severity: Severity
    """The severity used for policy (best available source)."""
    severities: tuple[Severity, ...] = ()
    """Every severity statement known."""
    title: str = ""
    description: str = ""
    references: tuple[str, ...] = ()
    published: str = ""
    modified: str = ""
    category: str = ""
    """``OS`` or ``Language``."""
    evidence: tuple[MatchEvidence, ...] = ()
    suppressed_by: str = ""
    """Set by policy (ignore file, VEX) when the finding is suppressed; detection never sets it."""
