"""Fold the records that matched one package into one finding per vulnerability.

Identity rules (what makes two records "the same vulnerability"):

- a record's ``id`` and its ``aliases`` name one vulnerability (OSV's definition of aliases);
- a record whose ``upstream`` names exactly one id restates that vulnerability (Debian changelog
  records, distro CVE records);
- a tracker id that embeds a CVE (``DEBIAN-CVE-…``, ``UBUNTU-CVE-…``, ``ALPINE-CVE-…``) is that CVE.

Notices covering several vulnerabilities (a USN or DSA whose ``upstream``/``related`` lists several
ids) are not merged across: they join every finding they name, and stand alone only when none of
their vulnerabilities matched through a record of its own.

The finding's id is the lowest CVE id in the group, else a GHSA id, else the alphabetically first
record id; ``aliases`` are every other id, sorted.

Fixed version: each record reports the ``fixed`` event that closes the interval the installed
version is in. Across records the *highest* of those wins: it is the lowest version every source
agrees is fixed. Records without a fix count only when no record has one. ``fix_state`` is
``fixed`` when a fixed version results, else ``will-not-fix`` if any record says so, else
``not-fixed``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from containerguard.errors import VersionError
from containerguard.models.advisory import Advisory, Affected, Severity
from containerguard.models.finding import Finding, MatchEvidence
from containerguard.models.sbom import Package
from containerguard.versions.base import VersionScheme

from . import severity as sev

_CVE = re.compile(r"(?:^|-)(CVE-(\d{4})-(\d{4,}))$", re.IGNORECASE)


class Match(NamedTuple):
    """One record that matched one package."""

    advisory: Advisory
    affected: Affected
    evidence: MatchEvidence
    fixed: str
    scheme: VersionScheme


@dataclass
class _Group:
    ids: set[str] = field(default_factory=set)
    matches: list[Match] = field(default_factory=list)


def embedded_cve(identifier: str) -> str:
    """``CVE-YYYY-N`` inside a tracker id such as ``UBUNTU-CVE-2023-4911`` (or ``""``)."""
    found = _CVE.search(identifier)
    return found.group(1).upper() if found else ""


def _cve_key(identifier: str) -> tuple[int, int]:
    found = _CVE.search(identifier)
    return (int(found.group(2)), int(found.group(3))) if found else (0, 0)


def _identity(advisory: Advisory) -> set[str]:
    ids = {advisory.id, *advisory.aliases}
    if len(advisory.upstream) == 1:
        ids.add(advisory.upstream[0])
    ids |= {cve for cve in map(embedded_cve, list(ids)) if cve}
    return ids


def _notice_targets(advisory: Advisory) -> set[str]:
    """The vulnerabilities a multi-vulnerability notice names (empty for a one-vulnerability record)."""
    if advisory.aliases or embedded_cve(advisory.id):
        return set()
    listed = advisory.upstream if len(advisory.upstream) > 1 else advisory.related if not advisory.upstream else ()
    targets = set(listed) | {cve for cve in map(embedded_cve, listed) if cve}
    return targets


def primary_id(ids: set[str]) -> str:
    """The id shown to users: lowest CVE, else a GHSA, else the first id alphabetically."""
    cves = [i for i in ids if i.upper().startswith("CVE-")]
    if cves:
        return min(cves, key=lambda i: (_cve_key(i), i))
    ghsas = sorted(i for i in ids if i.upper().startswith("GHSA-"))
    return ghsas[0] if ghsas else sorted(ids)[0]


def _highest_fix(matches: Sequence[Match]) -> str:
    best = ""
    for match in matches:
        if not match.fixed:
            continue
        if not best:
            best = match.fixed
            continue
        try:
            if match.scheme.compare(match.fixed, best) > 0:
                best = match.fixed
        except VersionError:
            continue  # keep the fix we could read; the evidence still lists both
    return best


def _fix_state(fixed: str, matches: Sequence[Match]) -> str:
    if fixed:
        return "fixed"
    states = {m.affected.fix_state for m in matches}
    return "will-not-fix" if "will-not-fix" in states else "not-fixed"


def _category(package: Package) -> str:
    return "OS" if package.type in ("deb", "apk", "rpm") else "Language"


def _finding(package: Package, installed: str, ids: set[str], matches: Sequence[Match]) -> Finding:
    fid = primary_id(ids)
    records = list(dict.fromkeys(m.advisory for m in matches))
    lead = next((a for a in records if a.id == fid), records[0])
    fixed = _highest_fix(matches)
    statements: list[Severity] = []
    for match in matches:
        statements.extend(match.advisory.severity)
        statements.extend(match.affected.severity)
    primary, severities = sev.choose(statements)
    references = tuple(dict.fromkeys(r for a in [lead, *records] for r in a.references))
    return Finding(
        id=fid,
        aliases=tuple(sorted(ids - {fid})),
        package=package,
        installed_version=installed,
        fixed_version=fixed,
        fix_state=_fix_state(fixed, matches),
        severity=primary,
        severities=severities,
        title=lead.summary or next((a.summary for a in records if a.summary), ""),
        description=lead.details or next((a.details for a in records if a.details), ""),
        references=references,
        published=min((a.published for a in records if a.published), default=""),
        modified=max((a.modified for a in records if a.modified), default=""),
        category=_category(package),
        evidence=tuple(dict.fromkeys(m.evidence for m in matches)),
    )


def merge(package: Package, installed: str, matches: Sequence[Match]) -> list[Finding]:
    """One finding per vulnerability among ``matches`` (all for ``package``)."""
    groups: list[_Group] = []
    notices: list[tuple[Match, set[str]]] = []
    for match in matches:
        targets = _notice_targets(match.advisory)
        if targets:
            notices.append((match, targets))
            continue
        ids = _identity(match.advisory)
        joined = [g for g in groups if g.ids & ids]
        group = _Group(ids=set(ids), matches=[match])
        for other in joined:  # union: this record bridges every group it shares an id with
            group.ids |= other.ids
            group.matches[:0] = other.matches
            groups.remove(other)
        groups.append(group)
    for match, targets in notices:
        touched = [g for g in groups if g.ids & targets]
        if not touched:
            groups.append(_Group(ids={match.advisory.id}, matches=[match]))
        for group in touched:
            group.ids.add(match.advisory.id)
            group.matches.append(match)
    return [_finding(package, installed, g.ids, g.matches) for g in groups]
