"""Severity: scores from CVSS vectors, vendor words mapped to one scale, and the primary choice.

Rules (documented here because policy gates depend on them):

- A statement with a CVSS vector is scored with the ``cvss`` package (the importers score the feeds'
  vectors with it, and that score is used as it is); its level follows the CVSS
  bands (v3/v4: 0.0 -> NEGLIGIBLE ("None"), 0.1-3.9 LOW, 4.0-6.9 MEDIUM, 7.0-8.9 HIGH, 9.0-10.0
  CRITICAL; v2: LOW below 4.0, MEDIUM below 7.0, else HIGH). An unreadable vector keeps the
  statement's own level, if any.
- Vendor words map onto :data:`SEVERITY_LEVELS`: Debian urgency (unimportant -> NEGLIGIBLE, low,
  medium, high; the changelog urgencies emergency/critical -> CRITICAL), GHSA (MODERATE -> MEDIUM),
  Ubuntu priority (negligible, low, medium, high, critical), Red Hat (moderate, important).
- The primary severity is chosen by source preference: CVSS v3.x from the record, then CVSS v4,
  then the vendor's own word (distro urgency/priority, GHSA), then CVSS v2; within one kind the
  highest level wins (several records of one vulnerability may disagree; we report the worst).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from containerguard.models.advisory import SEVERITY_LEVELS, Severity

UNKNOWN = Severity(level="UNKNOWN", source="none")

_WORDS = {
    "none": "NEGLIGIBLE",
    "negligible": "NEGLIGIBLE",
    "unimportant": "NEGLIGIBLE",
    "low": "LOW",
    "medium": "MEDIUM",
    "moderate": "MEDIUM",
    "high": "HIGH",
    "important": "HIGH",
    "critical": "CRITICAL",
    "emergency": "CRITICAL",
}

_PREFERENCE = ("cvss_v3", "cvss_v4", "vendor", "cvss_v2", "other")


def level_rank(level: str) -> int:
    """0 for CRITICAL up to 5 for UNKNOWN (sort key, most severe first)."""
    try:
        return SEVERITY_LEVELS.index(level)
    except ValueError:
        return len(SEVERITY_LEVELS) - 1


def _band(score: float, v2: bool) -> str:
    if v2:
        return "LOW" if score < 4.0 else "MEDIUM" if score < 7.0 else "HIGH"
    if score == 0.0:
        return "NEGLIGIBLE"
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    return "HIGH" if score < 9.0 else "CRITICAL"


def vector_kind(vector: str) -> str:
    """``cvss_v3``, ``cvss_v4``, ``cvss_v2`` or ``""`` from a vector string's shape."""
    text = vector.strip()
    if text.startswith("CVSS:3."):
        return "cvss_v3"
    if text.startswith("CVSS:4."):
        return "cvss_v4"
    if "Au:" in text and "AV:" in text:
        return "cvss_v2"
    return ""


@lru_cache(maxsize=8192)
def score_vector(vector: str) -> tuple[str, float] | None:
    """(level, base score) of a CVSS v2/v3/v4 vector, or None when it does not parse (memoised: one vector
    is scored once however many advisories and packages carry it)."""
    kind = vector_kind(vector)
    if not kind:
        return None  # a vendor's word kept in the vector field ("medium")
    from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped, unused-ignore]  # first use only
    from cvss.exceptions import CVSSError  # type: ignore[import-untyped, unused-ignore]

    try:
        if kind == "cvss_v3":
            score = CVSS3(vector.strip()).base_score
        elif kind == "cvss_v4":
            score = CVSS4(vector.strip()).base_score
        else:
            score = CVSS2(vector.strip().removeprefix("(").removesuffix(")")).base_score
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    value = float(score)
    return _band(value, kind == "cvss_v2"), value


def vendor_level(word: str) -> str:
    """A vendor's severity word on our scale (``UNKNOWN`` if unrecognised)."""
    # The Debian tracker decorates urgencies ("low**", "medium (unimportant)"): keep the first word.
    key = word.strip().lower().split(" ", 1)[0].strip("*") if word.strip() else ""
    if key.upper() in SEVERITY_LEVELS:
        return key.upper()
    return _WORDS.get(key, "UNKNOWN")


def normalize(statement: Severity) -> Severity:
    """The statement with a canonical level and score (vectors scored, vendor words mapped)."""
    vector = statement.vector
    # Importers may carry the vector in ``level`` (OSV's ``score`` field holds the vector).
    if not vector and vector_kind(statement.level):
        vector = statement.level
    if vector:
        kind = vector_kind(vector)
        if statement.score is not None and kind and statement.source == kind:
            # Scored from this vector at import, by the same library: only the banding is applied here.
            return Severity(level=_band(statement.score, kind == "cvss_v2"), source=kind, score=statement.score,
                            vector=vector.strip())
        scored = score_vector(vector)
        if scored is not None:
            level, score = scored
            return Severity(level=level, source=kind, score=score, vector=vector.strip())
        if not vector_kind(statement.level) and statement.level:
            return Severity(level=vendor_level(statement.level), source=statement.source,
                            score=statement.score, vector=vector)
        return Severity(level="UNKNOWN", source=statement.source, score=statement.score, vector=vector)
    if statement.score is not None and statement.source.lower().startswith("cvss"):
        level = _band(statement.score, statement.source.lower().endswith("v2"))
        return Severity(level=level, source=statement.source.lower(), score=statement.score)
    return Severity(level=vendor_level(statement.level), source=statement.source, score=statement.score)


def _kind(statement: Severity) -> str:
    # Importers keep a vendor's own word in ``vector`` too ("high"), so only a real CVSS vector
    # (or a cvss_* source) makes a statement a CVSS one.
    kind = vector_kind(statement.vector) or statement.source.lower()
    if kind in ("cvss_v2", "cvss_v3", "cvss_v4"):
        return kind
    return "vendor" if statement.level != "UNKNOWN" else "other"


def choose(statements: Iterable[Severity]) -> tuple[Severity, tuple[Severity, ...]]:
    """(primary severity, every distinct normalised statement) by the module's preference rules."""
    normalised = tuple(dict.fromkeys(normalize(s) for s in statements))
    usable = [s for s in normalised if s.level != "UNKNOWN"]
    if not usable:
        return (normalised[0] if normalised else UNKNOWN), normalised
    primary = min(usable, key=lambda s: (_PREFERENCE.index(_kind(s)), level_rank(s.level),
                                         -(s.score or 0.0), s.source))
    return primary, normalised
