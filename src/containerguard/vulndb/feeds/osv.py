"""OSV JSON (https://ossf.github.io/osv-schema/): single files, folders, or OSV.dev's ``all.zip``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from containerguard.models.advisory import Advisory, Affected, AffectedRange, RangeEvent, Severity
from containerguard.registry import register

from ..names import normalise_ecosystem
from ..severity import cvss_severity, word_level
from .base import Feed, Malformed, str_list, text, timestamp_key

_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class _Bad(Exception):
    """A record that cannot be used; the message is the reason reported."""


def _dict(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{field} is not an object")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{field} is not a list")
    return value


def _severities(entries: Any, field: str) -> tuple[Severity, ...]:
    out: list[Severity] = []
    for entry in _list(entries, field):
        entry = _dict(entry, field)
        kind, score = entry.get("type"), entry.get("score")
        if not isinstance(kind, str) or not isinstance(score, str):
            raise _Bad(f"{field} entry needs string type and score")
        cvss = cvss_severity(kind, score)
        if cvss is not None:
            out.append(cvss)
        elif kind == "Ubuntu":
            level = word_level(score)
            out.append(Severity(level=level or "UNKNOWN", source="ubuntu-priority", vector=score))
        # Other types (future ones) are skipped: OSV lets new types appear without a schema change.
    return tuple(out)


def _ranges(entries: Any) -> tuple[AffectedRange, ...]:
    out: list[AffectedRange] = []
    for entry in _list(entries, "ranges"):
        entry = _dict(entry, "ranges[]")
        kind = entry.get("type")
        if not isinstance(kind, str):
            raise _Bad("range without a type")
        events: list[RangeEvent] = []
        for event in _list(entry.get("events"), "ranges[].events"):
            event = _dict(event, "ranges[].events[]")
            keys = [k for k in _EVENT_KINDS if k in event]
            if len(keys) != 1 or not isinstance(event[keys[0]], str | int | float):
                raise _Bad(f"range event {event!r} needs exactly one of {', '.join(_EVENT_KINDS)}")
            events.append(RangeEvent(keys[0], text(event[keys[0]])))
        if not events:
            raise _Bad("range without events")
        out.append(AffectedRange(kind, tuple(events)))
    return tuple(out)


def _package_severity(entry: dict[str, Any]) -> tuple[Severity, ...]:
    out = list(_severities(entry.get("severity"), "affected[].severity"))
    eco_specific = _dict(entry.get("ecosystem_specific"), "ecosystem_specific")
    db_specific = _dict(entry.get("database_specific"), "database_specific")
    urgency = eco_specific.get("urgency")
    if isinstance(urgency, str) and (level := word_level(urgency)):
        out.append(Severity(level=level, source="debian-urgency", vector=urgency))
    for where in (eco_specific, db_specific):
        priority = where.get("ubuntu_priority") or where.get("priority")
        if isinstance(priority, str) and (level := word_level(priority)):
            out.append(Severity(level=level, source="ubuntu-priority", vector=priority))
            break
    return tuple(out)


def _affected(entry: Any) -> Affected | None:
    entry = _dict(entry, "affected[]")
    package = _dict(entry.get("package"), "affected[].package")
    if not package:
        # Allowed by OSV for GIT-only records: nothing a package could match.
        return None
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not ecosystem.strip() or not isinstance(name, str) or not name.strip():
        raise _Bad("affected package needs an ecosystem and a name")
    ranges = _ranges(entry.get("ranges"))
    try:
        versions = tuple(text(v) for v in _list(entry.get("versions"), "versions"))
        purl = text(package.get("purl"))
    except TypeError as exc:
        raise _Bad(str(exc)) from exc
    fixed = any(e.kind == "fixed" for r in ranges for e in r.events)
    return Affected(ecosystem=normalise_ecosystem(ecosystem), package=name.strip(), ranges=ranges,
                    versions=versions, purl=purl, fix_state="fixed" if fixed else "not-fixed",
                    severity=_package_severity(entry))


def _database_severity(record_id: str, db_specific: dict[str, Any]) -> tuple[Severity, ...]:
    word = db_specific.get("severity")
    if not isinstance(word, str) or not (level := word_level(word)):
        return ()
    source = "ghsa" if record_id.startswith("GHSA-") else "database-specific"
    return (Severity(level=level, source=source, vector=word),)


def parse_record(doc: Any, source: str = "osv") -> Advisory:
    """One OSV record as an :class:`Advisory`; raises ValueError with the reason when unusable."""
    try:
        return _parse(doc, source)
    except (_Bad, TypeError) as exc:
        raise ValueError(str(exc)) from exc


def _parse(doc: Any, source: str) -> Advisory:
    if not isinstance(doc, dict):
        raise _Bad("record is not a JSON object")
    record_id = doc.get("id")
    if not isinstance(record_id, str) or not record_id.strip():
        raise _Bad("record without an id")
    modified = doc.get("modified")
    if not isinstance(modified, str):
        raise _Bad(f"{record_id}: no modified time")
    try:
        timestamp_key(modified)
        for field in ("published", "withdrawn"):
            if doc.get(field):
                timestamp_key(text(doc[field]))
    except (ValueError, TypeError) as exc:
        raise _Bad(f"{record_id}: bad timestamp ({exc})") from exc
    try:
        affected = tuple(a for a in (_affected(e) for e in _list(doc.get("affected"), "affected")) if a)
        references = tuple(
            url for ref in _list(doc.get("references"), "references")
            if isinstance(url := _dict(ref, "references[]").get("url"), str) and url)
        return Advisory(
            id=record_id.strip(), source=source, modified=modified,
            aliases=str_list(doc.get("aliases"), "aliases"), related=str_list(doc.get("related"), "related"),
            upstream=str_list(doc.get("upstream"), "upstream"),
            summary=text(doc.get("summary")), details=text(doc.get("details")),
            published=text(doc.get("published")), withdrawn=text(doc.get("withdrawn")),
            severity=_severities(doc.get("severity"), "severity")
            + _database_severity(record_id, _dict(doc.get("database_specific"), "database_specific")),
            references=references, affected=affected)
    except (_Bad, TypeError) as exc:
        raise _Bad(f"{record_id}: {exc}") from exc


@register("feed")
class OsvFeed(Feed):
    """OSV records of every ecosystem (``Debian:12``, ``Ubuntu:22.04:LTS``, ``Alpine:v3.18``, PyPI…)."""

    name: ClassVar[str] = "osv"
    priority: ClassVar[int] = 90

    @classmethod
    def accepts(cls, document: Any) -> bool:
        """An object with OSV's identifying fields (a record missing its id still counts, as malformed)."""
        return isinstance(document, dict) and (
            "modified" in document or "affected" in document or "schema_version" in document
            or ("id" in document and ("summary" in document or "details" in document)))

    def parse(self, document: Any, origin: str) -> Iterator[Advisory | Malformed]:
        """One record per document (OSV files hold one record each)."""
        try:
            yield _parse(document, self.name)
        except (_Bad, TypeError) as exc:
            yield Malformed(f"{origin}: {exc}")
