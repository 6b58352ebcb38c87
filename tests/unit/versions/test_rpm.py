"""rpm ordering: rpm's rpmvercmp test cases (tests/rpmvercmp.at) and python3-rpm on thousands of pairs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Glued, Oracle, Pieces, disagreements, random_pairs, sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.rpm import RpmVersion, rpmvercmp

rpm = RpmVersion()

# rpm's tests/rpmvercmp.at (a selection), then EVR cases.
VERCMP = [
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1),
    ("2.0.1a", "2.0.1", 1),
    ("5.5p1", "5.5p2", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("xyz10", "xyz10.1", -1),
    ("xyz.4", "8", -1),
    ("5.5p2", "5.6p1", -1),
    ("6.0.rc1", "6.0", 1),
    ("10b2", "10a1", 1),
    ("1.0aa", "1.0a", 1),
    ("10.0001", "10.1", 0),
    ("10.0001", "10.0039", -1),
    ("4.999.9", "5.0", -1),
    ("20101121", "20101122", -1),
    ("2_0", "2.0", 0),
    ("a+", "a_", 0),
    ("+", "_", 0),
    ("1.0~rc1", "1.0~rc1", 0),
    ("1.0~rc1", "1.0", -1),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0^", "1.0", 1),
    ("1.0^git1", "1.0", 1),
    ("1.0^git1", "1.01", -1),
    ("1.0^20160101", "1.0.1", -1),
    ("1.0^20160101^git1", "1.0^20160102", -1),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
]
EVR = [
    ("1:1.0-1", "2.0-1", 1),
    ("0:1.0-1", "1.0-1", 0),
    ("1.0-1.el8", "1.0-1.el8_9", -1),
    ("2.28-225.el8", "2.28-225.el8_8.6", -1),
    ("1.0", "1.0-1", -1),
    ("3.0.7-24.el9", "3.0.7-25.el9", -1),
    ("1.1.1k-9.el8_7", "1:1.1.1k-9.el8_7", -1),
]
INVALID = ["", "  ", "1.0 1", "1:", "-1", "1.0-"]


@pytest.mark.parametrize(("a", "b", "expected"), VERCMP)
def test_rpmvercmp_cases(a: str, b: str, expected: int) -> None:
    assert rpmvercmp(a, b) == expected
    assert rpmvercmp(b, a) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), EVR)
def test_evr_orderings(a: str, b: str, expected: int) -> None:
    assert sign(rpm.compare(a, b)) == expected
    assert sign(rpm.compare(b, a)) == -expected


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        rpm.compare(version, "1.0-1")


@pytest.mark.parametrize(
    "ecosystem",
    [
        "Red Hat:enterprise_linux:9::appstream",
        "Rocky Linux:9",
        "AlmaLinux:8",
        "SUSE:SLES:15",
        "openSUSE:Tumbleweed",
        "Mageia:9",
        "openEuler:22.03-LTS",
        "Azure Linux:3",
    ],
)
def test_ecosystems(ecosystem: str) -> None:
    assert scheme_for_ecosystem(ecosystem).name == "rpm"


def test_agrees_with_python_rpm_on_tables(rpm_oracle: Oracle) -> None:
    pairs = [(a, b) for a, b, _ in VERCMP + EVR]
    assert not disagreements(rpm.compare, rpm_oracle, [(f"{a}-1", f"{b}-1") for a, b in pairs if "-" not in a + b])
    assert not disagreements(rpm.compare, rpm_oracle, [(a, b) for a, b, _ in EVR])


_EVR = Glued(
    Pieces(["", "", "0:", "1:", "2:", "10:"], [], max_tokens=0),
    Pieces(
        ["0", "1", "2", "10", "010", "1a", "a", "2023"],
        [".0", ".1", ".2", ".10", ".001", "a", "b", "p1", "rc1", "~", "~rc1", "^", "^git1", "_", "+", ".", "xyz", "Z"],
    ),
    Pieces(
        ["", "", "-1", "-2", "-10", "-0.1", "-1.el8", "-9.el9_2"],
        [".el8", ".el9", "_8", ".1", ".2", "~", "^", ".fc38", "git", "a", "..", "+"],
        max_tokens=3,
    ),
)


def test_agrees_with_python_rpm(rpm_oracle: Oracle) -> None:
    pairs = random_pairs(_EVR, 3000, keep=rpm.valid)
    assert len(pairs) > 3000
    assert not disagreements(rpm.compare, rpm_oracle, pairs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_EVR.strategy(), _EVR.strategy()), min_size=20, max_size=20))
def test_agrees_with_python_rpm_hypothesis(rpm_oracle: Oracle, pairs: list[tuple[str, str]]) -> None:
    pairs = [(a, b) for a, b in pairs if rpm.valid(a) and rpm.valid(b)]
    assert not disagreements(rpm.compare, rpm_oracle, pairs)
