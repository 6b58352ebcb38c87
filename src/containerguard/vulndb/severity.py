"""Turning the feeds' severity statements into :class:`Severity` values."""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from containerguard.models.advisory import Severity

_CVSS_SOURCES = {"CVSS_V2": "cvss_v2", "CVSS_V3": "cvss_v3", "CVSS_V4": "cvss_v4"}

_WORDS = {
    "critical": "CRITICAL", "high": "HIGH", "important": "HIGH", "moderate": "MEDIUM", "medium": "MEDIUM",
    "low": "LOW", "negligible": "NEGLIGIBLE", "unimportant": "NEGLIGIBLE", "none": "NEGLIGIBLE",
    # Debian changelog urgencies: an emergency upload means a critical issue.
    "emergency": "CRITICAL",
}


def word_level(word: str) -> str | None:
    """A severity level from a feed's word (``moderate``, ``unimportant``, ``low**``…), or None when
    the word says nothing (``not yet assigned``, ``end-of-life``, ``untriaged``)."""
    return _WORDS.get(word.strip().rstrip("*").strip().lower())


def _cvss_level(score: float) -> str:
    # The CVSS v3/v4 qualitative rating scale (v2 has none of its own; the same bands are customary).
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0.0:
        return "LOW"
    return "NEGLIGIBLE"


def cvss_severity(osv_type: str, vector: str) -> Severity | None:
    """Severity from an OSV ``severity[]`` entry of type CVSS_V2/V3/V4 (the vector is kept as given;
    an unparsable vector still yields ``UNKNOWN`` so the statement is not lost). None for other types."""
    source = _CVSS_SOURCES.get(osv_type)
    if source is None:
        return None
    try:
        if osv_type == "CVSS_V4":
            score = float(CVSS4(vector).base_score)
        elif osv_type == "CVSS_V3":
            score = float(CVSS3(vector).base_score)
        else:
            score = float(CVSS2(vector).base_score)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return Severity(level="UNKNOWN", source=source, vector=vector)
    return Severity(level=_cvss_level(score), source=source, score=score, vector=vector)
