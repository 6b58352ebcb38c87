"""The read-only interface matchers use; the SQLite store implements it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from containerguard.models.advisory import Advisory, Affected


@dataclass(frozen=True)
class SourceStatus:
    """What one feed contributed to the database."""

    source: str
    records: int
    malformed: int
    last_modified: str
    imported_at: str
    location: str = ""


@dataclass(frozen=True)
class DbStatus:
    """``db status``: schema version and per-source counts."""

    path: str
    schema_version: int
    built_at: str
    sources: tuple[SourceStatus, ...]
    advisories: int


class Candidate(NamedTuple):
    """A record as matching first sees it: its id and its ``affected`` entries for one (ecosystem,
    package). The rest of the record (summary, aliases, severity…) is read by :attr:`load`, which
    matching calls only for a record that holds the installed version: most looked-up records do not."""

    id: str
    affected: tuple[Affected, ...]
    load: Callable[[], Advisory]
    """The full advisory, ``affected`` narrowed as :meth:`VulnStore.lookup` narrows it."""


def _loaded(advisory: Advisory) -> Callable[[], Advisory]:
    return lambda: advisory


class VulnStore(ABC):
    """Read-only access to advisories by (ecosystem, package)."""

    @abstractmethod
    def lookup(self, ecosystem: str, package: str) -> list[Advisory]:
        """Advisories affecting ``package`` in ``ecosystem`` (exact OSV ecosystem such as ``Debian:12``;
        the name is normalised as the ecosystem requires). Each returned advisory's ``affected`` holds
        only the entries for that (ecosystem, package). Withdrawn records are never returned."""

    def lookup_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Advisory]]:
        """:meth:`lookup` for many (ecosystem, package) pairs at once, keyed as given. Stores that can
        answer in fewer round trips override this; the result is the same as one lookup per pair."""
        return {key: self.lookup(*key) for key in dict.fromkeys(keys)}

    def candidates(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Candidate]]:
        """:meth:`lookup_many` as :class:`Candidate` records. Stores that can defer reading whole
        records override this; the advisories loaded are the same."""
        return {key: [Candidate(a.id, a.affected, _loaded(a)) for a in found]
                for key, found in self.lookup_many(keys).items()}

    @abstractmethod
    def ecosystems(self) -> frozenset[str]:
        """Every ecosystem the database has records for (to tell "no data" from "no findings")."""

    @abstractmethod
    def status(self) -> DbStatus:
        """Schema version, build time and per-source counts."""
