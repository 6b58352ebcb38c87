"""The matcher plugin interface and the lookup-evaluate-merge loop every matcher shares.

A matcher decides *where* a package is recorded (ecosystems, names, which version to compare);
:meth:`Matcher.match` then looks each (ecosystem, name) up in the read-only store, evaluates the
records' ranges with the ecosystem's version scheme and folds the hits into findings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from containerguard.errors import VersionError
from containerguard.models.finding import Finding, MatchEvidence
from containerguard.models.sbom import Distro, Package
from containerguard.registry import load_plugins, plugins
from containerguard.versions.base import VersionScheme, scheme_for_ecosystem, scheme_named
from containerguard.vulndb.base import Candidate, VulnStore

from .ecosystems import Resolution
from .merge import Match, merge
from .ranges import evaluate


class Lookup(NamedTuple):
    """Where one package is recorded: ecosystems to query, names to look up, the version to compare."""

    resolution: Resolution
    names: tuple[str, ...]
    version: str
    version_field: str
    """``version`` or ``source_version``: which package field gave :attr:`version`."""


@dataclass
class MatchContext:
    """Per-scan state shared by matchers: the store's ecosystems, a lookup cache and skip counts."""

    store: VulnStore
    _available: frozenset[str] | None = None
    _cache: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)
    _schemes: dict[str, VersionScheme | None] = field(default_factory=dict)
    skipped_records: Counter[str] = field(default_factory=Counter)
    """Records skipped for a package because one of their versions would not parse, by ecosystem."""
    notes: list[tuple[str, str]] = field(default_factory=list)
    """(subject, reason) of packages that could not be assessed (unparsable installed version…)."""

    @property
    def available(self) -> frozenset[str]:
        """Every ecosystem the database holds (read once per scan)."""
        if self._available is None:
            self._available = self.store.ecosystems()
        return self._available

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Fill the lookup cache for many (ecosystem, name) pairs with one store call."""
        missing = [key for key in keys if key not in self._cache]
        if missing:
            self._cache.update(self.store.candidates(missing))

    def lookup(self, ecosystem: str, name: str) -> list[Candidate]:
        """The records of (ecosystem, name), cached: many binaries share one source package."""
        key = (ecosystem, name)
        if key not in self._cache:
            self._cache[key] = self.store.candidates([key])[key]
        return self._cache[key]

    def scheme(self, ecosystem: str) -> VersionScheme | None:
        """The ecosystem's version scheme (None when no comparator exists for it)."""
        if ecosystem not in self._schemes:
            try:
                self._schemes[ecosystem] = scheme_for_ecosystem(ecosystem)
            except VersionError:
                self._schemes[ecosystem] = None
        return self._schemes[ecosystem]

    def semver(self) -> VersionScheme | None:
        """The SemVer 2.0 scheme used by OSV ``SEMVER`` ranges."""
        if "\0semver" not in self._schemes:
            self._schemes["\0semver"] = scheme_named("semver")
        return self._schemes["\0semver"]


def _subject(package: Package) -> str:
    return f"{package.type}:{package.namespace + '/' if package.namespace else ''}{package.name}@{package.full_version}"


class Matcher(ABC):
    """Finds the advisories that affect a package. One plugin per package family."""

    name: ClassVar[str]

    @abstractmethod
    def handles(self, package: Package, distro: Distro | None) -> bool:
        """Whether this matcher is responsible for ``package``."""

    @abstractmethod
    def lookup(self, package: Package, distro: Distro | None, available: frozenset[str]) -> Lookup:
        """Where ``package`` is recorded, given the ecosystems the database holds."""

    def match(self, package: Package, distro: Distro | None, store: VulnStore,
              context: MatchContext | None = None, plan: Lookup | None = None) -> list[Finding]:
        """Findings for ``package``: one per vulnerability, each with the evidence of every record.

        ``context`` carries per-scan caches and collects skip counts; one is made when omitted.
        ``plan`` is :meth:`lookup`'s answer when the caller already has it.
        """
        ctx = context if context is not None else MatchContext(store)
        if plan is None:
            plan = self.lookup(package, distro, ctx.available)
        hits: list[Match] = []
        for ecosystem in plan.resolution.keys:
            scheme = ctx.scheme(ecosystem)
            if scheme is None:
                ctx.notes.append((_subject(package), f"no version comparator for ecosystem {ecosystem}"))
                continue
            if not scheme.valid(plan.version):
                ctx.notes.append((_subject(package),
                                  f"version {plan.version!r} is not a valid {scheme.name} version"))
                continue
            seen: set[str] = set()
            for name in plan.names:
                for record in ctx.lookup(ecosystem, name):
                    if record.id in seen:
                        continue  # the same record under the source and the binary name
                    hit = self._evaluate(record, ecosystem, name, plan, scheme, ctx)
                    if hit is not None:
                        seen.add(record.id)
                        hits.append(hit)
        return merge(package, plan.version, hits)

    @staticmethod
    def _evaluate(record: Candidate, ecosystem: str, name: str, plan: Lookup, scheme: VersionScheme,
                  ctx: MatchContext) -> Match | None:
        unreadable = False
        for affected in record.affected:
            if affected.ecosystem != ecosystem or affected.fix_state == "not-affected":
                continue
            try:
                hit = evaluate(plan.version, affected, scheme, ctx.semver())
            except VersionError:
                # An entry whose versions do not parse is skipped, never guessed; the record's
                # other entries for this package (feeds split ranges across entries) still count.
                unreadable = True
                continue
            if hit is None:
                continue
            evidence = MatchEvidence(record=record.id, ecosystem=ecosystem, package=name,
                                     version=plan.version, version_field=plan.version_field, range=hit.range)
            return Match(advisory=record.load(), affected=affected, evidence=evidence, fixed=hit.fixed,
                         scheme=scheme)
        if unreadable:
            ctx.skipped_records[ecosystem] += 1
        return None


def all_matchers() -> list[Matcher]:
    """One instance of every registered matcher, in registration order."""
    load_plugins("containerguard.matchers")
    return [cls() for cls in plugins("matcher").values()]
