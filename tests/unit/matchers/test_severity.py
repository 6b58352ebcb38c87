"""Severity from CVSS vectors and vendor words, and the primary choice."""

from __future__ import annotations

import pytest

from containerguard.matchers.severity import choose, normalize, vendor_level
from containerguard.models.advisory import Severity

V3_CRIT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V3_LOW = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"
V3_NONE = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"
V3_MED = "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"
V3_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
V4_CRIT = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"


@pytest.mark.parametrize(("statement", "level", "score", "source"), [
    (Severity("UNKNOWN", "cvss_v3", vector=V3_CRIT), "CRITICAL", 9.8, "cvss_v3"),
    (Severity("UNKNOWN", "cvss_v3", vector=V3_HIGH), "HIGH", 7.5, "cvss_v3"),
    (Severity("UNKNOWN", "cvss_v3", vector=V3_MED), "MEDIUM", 5.4, "cvss_v3"),
    (Severity("UNKNOWN", "cvss_v3", vector=V3_LOW), "LOW", 3.7, "cvss_v3"),
    (Severity("UNKNOWN", "cvss_v3", vector=V3_NONE), "NEGLIGIBLE", 0.0, "cvss_v3"),
    (Severity("UNKNOWN", "cvss_v4", vector=V4_CRIT), "CRITICAL", 9.3, "cvss_v4"),
    (Severity("UNKNOWN", "cvss_v2", vector=V2_HIGH), "HIGH", 7.5, "cvss_v2"),
    (Severity(V3_CRIT, "CVSS_V3"), "CRITICAL", 9.8, "cvss_v3"),  # vector carried in level
    (Severity("HIGH", "cvss_v3", vector="CVSS:3.1/AV:X"), "HIGH", None, "cvss_v3"),  # unreadable: keep level
    (Severity("MEDIUM", "ghsa", vector="MODERATE"), "MEDIUM", None, "ghsa"),
    (Severity("moderate", "ghsa"), "MEDIUM", None, "ghsa"),
    (Severity("unimportant", "debian-urgency"), "NEGLIGIBLE", None, "debian-urgency"),
    (Severity("low**", "debian-urgency"), "LOW", None, "debian-urgency"),
    (Severity("critical", "ubuntu-priority"), "CRITICAL", None, "ubuntu-priority"),
    (Severity("untriaged", "ubuntu-priority"), "UNKNOWN", None, "ubuntu-priority"),
])
def test_normalize(statement: Severity, level: str, score: float | None, source: str) -> None:
    got = normalize(statement)
    assert (got.level, got.score, got.source) == (level, score, source)


@pytest.mark.parametrize(("word", "level"), [
    ("unimportant", "NEGLIGIBLE"), ("low", "LOW"), ("medium", "MEDIUM"), ("high", "HIGH"), ("LOW", "LOW"),
    ("MODERATE", "MEDIUM"), ("CRITICAL", "CRITICAL"), ("negligible", "NEGLIGIBLE"), ("important", "HIGH"),
    ("not yet assigned", "UNKNOWN"), ("", "UNKNOWN"), ("emergency", "CRITICAL"),
])
def test_vendor_words(word: str, level: str) -> None:
    assert vendor_level(word) == level


@pytest.mark.parametrize(("statements", "source", "level"), [
    # CVSS v3 from the record beats the vendor's word, even when the vendor says worse.
    ([Severity("HIGH", "debian-urgency", vector="high"), Severity("UNKNOWN", "cvss_v3", vector=V3_LOW)],
     "cvss_v3", "LOW"),
    ([Severity("UNKNOWN", "cvss_v4", vector=V4_CRIT), Severity("UNKNOWN", "cvss_v3", vector=V3_MED)],
     "cvss_v3", "MEDIUM"),
    ([Severity("UNKNOWN", "cvss_v4", vector=V4_CRIT), Severity("LOW", "ghsa")], "cvss_v4", "CRITICAL"),
    ([Severity("LOW", "ghsa"), Severity("UNKNOWN", "cvss_v2", vector=V2_HIGH)], "ghsa", "LOW"),
    # Two records of one vulnerability disagree: the worst of the same kind wins.
    ([Severity("UNKNOWN", "cvss_v3", vector=V3_LOW), Severity("UNKNOWN", "cvss_v3", vector=V3_CRIT)],
     "cvss_v3", "CRITICAL"),
    ([Severity("untriaged", "ubuntu-priority")], "ubuntu-priority", "UNKNOWN"),
    ([], "none", "UNKNOWN"),
])
def test_choose(statements: list[Severity], source: str, level: str) -> None:
    primary, _ = choose(statements)
    assert (primary.source, primary.level) == (source, level)
