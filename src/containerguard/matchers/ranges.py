"""OSV range evaluation, exactly as https://ossf.github.io/osv-schema/#evaluation defines it.

``ECOSYSTEM`` ranges compare with the ecosystem's scheme, ``SEMVER`` ranges with SemVer 2.0 (the
``semver`` scheme), ``GIT`` ranges never match an installed package. ``introduced: "0"`` sorts before
every version and a ``limit`` containing ``*`` is infinity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cmp_to_key
from typing import Any, Literal, NamedTuple

from containerguard.errors import VersionError
from containerguard.models.advisory import Affected, AffectedRange, RangeEvent
from containerguard.versions.base import VersionScheme

_V_PREFIX = re.compile(r"^v(?=\d)")


class RangeHit(NamedTuple):
    """How an installed version fell inside an advisory's ``affected`` entry."""

    range: str
    """Human-readable range or versions entry, e.g. ``ECOSYSTEM [0, 3.0.11-1~deb12u2)``."""
    fixed: str
    """The ``fixed`` event closing the matching interval, or ``""`` when it is open or ends with
    ``last_affected``."""


def _is_zero(event: RangeEvent) -> bool:
    return event.kind == "introduced" and event.version == "0"


def _is_infinity(event: RangeEvent) -> bool:
    return event.kind == "limit" and "*" in event.version


def _event_key(scheme: VersionScheme) -> Callable[[RangeEvent], Any]:
    def cmp(a: RangeEvent, b: RangeEvent) -> int:
        a_low, b_low = _is_zero(a), _is_zero(b)
        if a_low or b_low:
            return int(b_low) - int(a_low) if not (a_low and b_low) else 0
        a_high, b_high = _is_infinity(a), _is_infinity(b)
        if a_high or b_high:
            return int(a_high) - int(b_high)
        return scheme.compare(a.version, b.version)

    return cmp_to_key(cmp)


def _ge(scheme: VersionScheme, version: str, event: RangeEvent) -> bool:
    """``version >= event.version`` with the special values."""
    if _is_zero(event):
        return True
    if _is_infinity(event):
        return False
    return scheme.compare(version, event.version) >= 0


def _past(scheme: VersionScheme, version: str, event: RangeEvent) -> bool:
    """Whether ``version`` is beyond an upper event: ``>= fixed`` or ``> last_affected``."""
    order = scheme.compare(version, event.version)
    return order >= 0 if event.kind == "fixed" else order > 0


def _interval_text(start: RangeEvent | None, end: RangeEvent | None) -> str:
    low = start.version if start else "0"
    if end is None:
        return f"[{low}, *)"
    if end.kind == "last_affected":
        return f"[{low}, {end.version}]"
    return f"[{low}, {end.version})"


def _simple_range(version: str, rng: AffectedRange, scheme: VersionScheme) -> RangeHit | Literal[False] | None:
    """The evaluation of the commonest shape, one ``introduced`` then one ``fixed``/``last_affected``
    event in increasing order, without the general sort; ``False`` for any other shape."""
    start, end = rng.events
    if start.kind != "introduced" or end.kind not in ("fixed", "last_affected"):
        return False
    if not _is_zero(start):
        if scheme.compare(start.version, end.version) >= 0:
            return False  # out of order or equal: the general evaluation orders them
        if scheme.compare(version, start.version) < 0:
            return None
    if _past(scheme, version, end):
        return None
    return RangeHit(range=f"{rng.type} {_interval_text(start, end)}", fixed=end.version if end.kind == "fixed" else "")


def in_range(version: str, rng: AffectedRange, scheme: VersionScheme) -> RangeHit | None:
    """Whether ``version`` is inside one range; VersionError when an event does not parse."""
    if len(rng.events) == 2:
        simple = _simple_range(version, rng, scheme)
        if simple is None or isinstance(simple, RangeHit):
            return simple
    return _general_range(version, rng, scheme)


def _general_range(version: str, rng: AffectedRange, scheme: VersionScheme) -> RangeHit | None:
    events = list(rng.events)
    limits = [e for e in events if e.kind == "limit"]
    if limits and not any(not _ge(scheme, version, e) for e in limits):
        return None  # BeforeLimits: at or past every limit
    ordered = sorted((e for e in events if e.kind != "limit"), key=_event_key(scheme))
    vulnerable = False
    opened: RangeEvent | None = None
    for event in ordered:
        if event.kind == "introduced" and _ge(scheme, version, event):
            vulnerable, opened = True, event
        elif event.kind in ("fixed", "last_affected") and _past(scheme, version, event):
            vulnerable = False
    if not vulnerable:
        return None
    # The interval closes at the first fixed/last_affected event the version is not past.
    closing = next((e for e in ordered if e.kind in ("fixed", "last_affected")
                    and not _past(scheme, version, e)), None)
    fixed = closing.version if closing is not None and closing.kind == "fixed" else ""
    return RangeHit(range=f"{rng.type} {_interval_text(opened, closing)}", fixed=fixed)


def _in_versions(version: str, versions: tuple[str, ...], scheme: VersionScheme) -> str | None:
    for listed in versions:
        if listed == version:
            return listed
    for listed in versions:
        # Equality by the scheme too (PEP 440 "3.2" == "3.2.0"); a listed version the scheme
        # cannot read is simply not equal: enumerations often carry odd historical tags.
        try:
            if scheme.compare(version, listed) == 0:
                return listed
        except VersionError:
            continue
    return None


def semver_form(version: str) -> str:
    """SemVer has no ``v`` prefix (Go writes one); OSV SEMVER events never carry it."""
    return _V_PREFIX.sub("", version)


def evaluate(version: str, affected: Affected, ecosystem_scheme: VersionScheme,
             semver_scheme: VersionScheme | None) -> RangeHit | None:
    """Whether ``version`` is affected by one ``affected`` entry (ranges, then the versions list).

    Raises :class:`VersionError` when a range event cannot be read by its scheme: the caller skips
    that record for this package rather than guess.
    """
    # A range hit is the answer whatever the listing says, so the listing (often every affected
    # release, each compared by the scheme) is read only when no range holds the version.
    try:
        for rng in affected.ranges:
            if rng.type == "ECOSYSTEM":
                hit = in_range(version, rng, ecosystem_scheme)
            elif rng.type == "SEMVER":
                if semver_scheme is None:
                    raise VersionError("no semver scheme registered for a SEMVER range")
                hit = in_range(semver_form(version), rng, semver_scheme)
            else:
                continue  # GIT (and unknown) ranges describe commits, not installed versions
            if hit is not None:
                return hit
        unreadable: VersionError | None = None
    except VersionError as exc:
        unreadable = exc
    # An explicit listing is enough on its own, even when a range of the record is unreadable.
    listed = _in_versions(version, affected.versions, ecosystem_scheme)
    if listed is not None:
        return RangeHit(range=f"versions {listed}", fixed="")
    if unreadable is not None:
        raise unreadable
    return None
