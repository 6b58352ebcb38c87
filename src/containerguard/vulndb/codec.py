"""Advisory <-> compact JSON, the blob the store keeps for each record (fast to load, no ORM)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from containerguard.models.advisory import Advisory, Affected, AffectedRange, RangeEvent, Severity


def _severity_to_list(s: Severity) -> list[Any]:
    return [s.level, s.source, s.score, s.vector]


def _severity_from_list(v: list[Any]) -> Severity:
    return Severity(level=v[0], source=v[1], score=v[2], vector=v[3])


def _affected_to_dict(a: Affected) -> dict[str, Any]:
    out: dict[str, Any] = {"e": a.ecosystem, "p": a.package}
    if a.ranges:
        out["r"] = [[r.type, [[e.kind, e.version] for e in r.events]] for r in a.ranges]
    if a.versions:
        out["v"] = list(a.versions)
    if a.purl:
        out["u"] = a.purl
    if a.fix_state:
        out["f"] = a.fix_state
    if a.severity:
        out["s"] = [_severity_to_list(s) for s in a.severity]
    return out


def _affected_from_dict(d: dict[str, Any]) -> Affected:
    return Affected(
        ecosystem=d["e"], package=d["p"],
        ranges=tuple(AffectedRange(t, tuple(RangeEvent(k, v) for k, v in events)) for t, events in d.get("r", ())),
        versions=tuple(d.get("v", ())), purl=d.get("u", ""), fix_state=d.get("f", ""),
        severity=tuple(_severity_from_list(s) for s in d.get("s", ())))


_TEXT_FIELDS = ("summary", "details", "published", "withdrawn")
_LIST_FIELDS = ("aliases", "related", "upstream", "references")


def advisory_to_dict(a: Advisory) -> dict[str, Any]:
    """A JSON-ready dict of ``a``, omitting empty fields."""
    out: dict[str, Any] = {"id": a.id, "source": a.source, "modified": a.modified}
    for key in _TEXT_FIELDS:
        value = getattr(a, key)
        if value:
            out[key] = value
    for key in _LIST_FIELDS:
        items = getattr(a, key)
        if items:
            out[key] = list(items)
    if a.severity:
        out["severity"] = [_severity_to_list(s) for s in a.severity]
    if a.affected:
        out["affected"] = [_affected_to_dict(x) for x in a.affected]
    return out


def advisory_from_dict(d: dict[str, Any]) -> Advisory:
    """Inverse of :func:`advisory_to_dict`."""
    return Advisory(
        id=d["id"], source=d["source"], modified=d["modified"],
        aliases=tuple(d.get("aliases", ())), related=tuple(d.get("related", ())),
        upstream=tuple(d.get("upstream", ())), summary=d.get("summary", ""), details=d.get("details", ""),
        published=d.get("published", ""), withdrawn=d.get("withdrawn", ""),
        severity=tuple(_severity_from_list(s) for s in d.get("severity", ())),
        references=tuple(d.get("references", ())),
        affected=tuple(_affected_from_dict(x) for x in d.get("affected", ())))


def dumps(a: Advisory) -> str:
    """The stored blob: compact, key order fixed, so equal advisories give equal bytes."""
    return json.dumps(advisory_to_dict(a), separators=(",", ":"), ensure_ascii=False)


def _parse(blob: str | bytes) -> Any:
    # orjson reads these blobs about three times faster; json reads what orjson refuses (integers
    # beyond 64 bits, escaped lone surrogates), so what is read never depends on which parser ran.
    try:
        return orjson.loads(blob)
    except orjson.JSONDecodeError:
        return json.loads(blob)


def loads(blob: str | bytes) -> Advisory:
    """Inverse of :func:`dumps`."""
    return advisory_from_dict(_parse(blob))


def dumps_affected(entries: list[Affected]) -> str:
    """The index's blob: the entries of one (ecosystem, package) pair."""
    return json.dumps([_affected_to_dict(a) for a in entries], separators=(",", ":"), ensure_ascii=False)


def loads_affected(blob: str | bytes) -> tuple[Affected, ...]:
    """Inverse of :func:`dumps_affected`."""
    return tuple(_affected_from_dict(d) for d in _parse(blob))
