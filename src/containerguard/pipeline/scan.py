"""Match an SBOM against the vulnerability database: orchestration only.

Each package goes to the first matcher that handles it; packages nobody can assess become notes
(no matcher, unsupported distro, no advisory data for the ecosystem, unreadable version), so "no
findings" is never confused with "not looked at".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from containerguard.matchers.base import Lookup, MatchContext, Matcher, all_matchers
from containerguard.matchers.severity import level_rank
from containerguard.models.finding import Finding
from containerguard.models.report import ScanNote, ScanResult
from containerguard.models.sbom import Package, Sbom
from containerguard.vulndb.base import DbStatus, VulnStore


@dataclass
class MatchStats:
    """Counts of one matching run, for notes and benchmarks."""

    packages: int = 0
    matched: int = 0
    """Packages looked up in at least one ecosystem the database holds."""
    vulnerable: int = 0
    skipped: int = 0


def finding_order(finding: Finding) -> tuple[int, str, str, str, str]:
    """Most severe first, then id, then package (stable, reproducible output)."""
    pkg = finding.package
    return (level_rank(finding.severity.level), finding.id, pkg.type, pkg.name, finding.installed_version)


def db_summary(status: DbStatus) -> str:
    """One line naming the database: schema, build time and per-source record counts."""
    per_source: Counter[str] = Counter()
    for source in status.sources:  # one row per imported location; users think per feed
        per_source[source.source] += source.records
    sources = ", ".join(f"{name} {count}" for name, count in sorted(per_source.items())) or "no sources"
    built = status.built_at or "never"
    return f"schema {status.schema_version}, built {built}, {status.advisories} advisories ({sources})"


def match_sbom(sbom: Sbom, store: VulnStore, matchers: list[Matcher] | None = None,
               stats: MatchStats | None = None) -> ScanResult:
    """Findings for every package of ``sbom``, sorted by severity then id, with skip notes."""
    chosen = matchers if matchers is not None else all_matchers()
    run = stats if stats is not None else MatchStats()
    ctx = MatchContext(store)
    findings: list[Finding] = []
    skipped: Counter[tuple[str, str]] = Counter()
    planned: list[tuple[Package, Matcher, Lookup]] = []
    for package in sbom.packages:
        run.packages += 1
        matcher = next((m for m in chosen if m.handles(package, sbom.distro)), None)
        if matcher is None:
            skipped[(package.type, f"no matcher for package type {package.type!r}")] += 1
            continue
        plan = matcher.lookup(package, sbom.distro, ctx.available)
        if plan.resolution.unsupported:
            skipped[(plan.resolution.wanted, f"unsupported distro: {plan.resolution.unsupported}")] += 1
            continue
        if not plan.resolution.keys:
            skipped[(plan.resolution.wanted, f"no advisory data for ecosystem {plan.resolution.wanted}")] += 1
            continue
        planned.append((package, matcher, plan))
    # Every record the image can touch in one store call, then the matchers read the cache.
    ctx.prefetch((ecosystem, name) for _, _, plan in planned
                 for ecosystem in plan.resolution.keys for name in plan.names)
    for package, matcher, plan in planned:
        run.matched += 1
        found = matcher.match(package, sbom.distro, store, ctx, plan)
        if found:
            run.vulnerable += 1
        findings.extend(found)
    notes = [ScanNote(subject, f"{reason} ({count} package{'s' if count != 1 else ''})")
             for (subject, reason), count in sorted(skipped.items())]
    notes.extend(ScanNote(subject, reason) for subject, reason in ctx.notes)
    notes.extend(ScanNote(ecosystem, f"{count} advisory record(s) skipped: a version in them did not parse")
                 for ecosystem, count in sorted(ctx.skipped_records.items()))
    run.skipped = sum(skipped.values())
    findings.sort(key=finding_order)
    return ScanResult(sbom=sbom, findings=tuple(findings), notes=tuple(notes), db_summary=db_summary(store.status()))
