"""Test doubles for matcher tests: an in-memory VulnStore, a dotted-number version scheme, builders."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from containerguard.errors import VersionError
from containerguard.matchers import base as matcher_base
from containerguard.models.advisory import Advisory, Affected, AffectedRange, RangeEvent, Severity
from containerguard.models.artifact import ImageMetadata
from containerguard.models.sbom import Distro, Package, Sbom
from containerguard.versions.base import VersionScheme
from containerguard.vulndb.base import DbStatus, SourceStatus, VulnStore

_PART = re.compile(r"^\d+$")


class DottedScheme(VersionScheme):
    """Numbers separated by ``.``, ``-``, ``+`` or ``:`` (``1:1.2-3``), compared numerically; anything else
    is invalid. Enough to exercise range logic without the real comparators."""

    name = "fake-dotted"
    ecosystems = ()

    def _parts(self, version: str) -> list[int]:
        parts = re.split(r"[.+:-]", version)
        if not version or not all(_PART.match(p) for p in parts):
            raise VersionError(f"bad fake version {version!r}")
        return [int(p) for p in parts]

    def compare(self, a: str, b: str) -> int:
        pa, pb = self._parts(a), self._parts(b)
        width = max(len(pa), len(pb))
        pa += [0] * (width - len(pa))
        pb += [0] * (width - len(pb))
        return (pa > pb) - (pa < pb)


class FakeStore(VulnStore):
    """Serves advisories from memory; ``lookup`` narrows ``affected`` like the real store."""

    def __init__(self, advisories: list[Advisory], extra_ecosystems: tuple[str, ...] = ()) -> None:
        self.advisories = advisories
        self._ecosystems = frozenset({a.ecosystem for adv in advisories for a in adv.affected}
                                     | set(extra_ecosystems))
        self.lookups: list[tuple[str, str]] = []

    def lookup(self, ecosystem: str, package: str) -> list[Advisory]:
        self.lookups.append((ecosystem, package))
        out = []
        for adv in self.advisories:
            mine = tuple(a for a in adv.affected if a.ecosystem == ecosystem and a.package == package)
            if mine and not adv.withdrawn:
                out.append(Advisory(**{**adv.__dict__, "affected": mine}))
        return out

    def ecosystems(self) -> frozenset[str]:
        return self._ecosystems

    def status(self) -> DbStatus:
        return DbStatus(path=":memory:", schema_version=1, built_at="2026-01-01T00:00:00Z",
                        sources=(SourceStatus("osv", len(self.advisories), 0, "", ""),),
                        advisories=len(self.advisories))


@pytest.fixture
def fake_schemes(monkeypatch: pytest.MonkeyPatch) -> Iterator[DottedScheme]:
    """Route every ecosystem (and SEMVER ranges) to :class:`DottedScheme`."""
    scheme = DottedScheme()
    monkeypatch.setattr(matcher_base, "scheme_for_ecosystem", lambda ecosystem: scheme)
    monkeypatch.setattr(matcher_base, "scheme_named", lambda name: scheme if name == "semver" else None)
    yield scheme


def rng(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> AffectedRange:
    """A range from (event kind, version) pairs."""
    return AffectedRange(kind, tuple(RangeEvent(k, v) for k, v in events))


def affected(ecosystem: str, package: str, *ranges: AffectedRange, versions: tuple[str, ...] = (),
             fix_state: str = "", severity: tuple[Severity, ...] = ()) -> Affected:
    """An Affected entry; ``fix_state`` defaults to what the importer derives from the ranges."""
    fixed = any(e.kind == "fixed" for r in ranges for e in r.events)
    return Affected(ecosystem=ecosystem, package=package, ranges=ranges, versions=versions,
                    fix_state=fix_state or ("fixed" if fixed else "not-fixed"), severity=severity)


def advisory(ident: str, *entries: Affected, aliases: tuple[str, ...] = (), upstream: tuple[str, ...] = (),
             related: tuple[str, ...] = (), severity: tuple[Severity, ...] = (), summary: str = "") -> Advisory:
    """An OSV-shaped advisory."""
    return Advisory(id=ident, source="osv", modified="2024-01-01T00:00:00Z", aliases=aliases, upstream=upstream,
                    related=related, severity=severity, affected=entries, summary=summary or ident)


def sbom(distro: Distro | None, *packages: Package) -> Sbom:
    """A minimal SBOM."""
    return Sbom(artifact=ImageMetadata(name="test:latest", source="dir", layers=()), distro=distro,
                packages=packages)


DEBIAN_12 = Distro(id="debian", version_id="12")
DEBIAN_11 = Distro(id="debian", version_id="11")
