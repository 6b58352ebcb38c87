"""Maven ordering: Maven's ComparableVersionTest cases and maven-artifact 3.9's ComparableVersion itself."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Oracle, Pieces, disagreements, random_pairs
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.maven import MavenVersion

maven = MavenVersion()

# ComparableVersionTest.VERSIONS_QUALIFIER and VERSIONS_NUMBER, ascending.
QUALIFIERS = [
    "1-alpha2snapshot",
    "1-alpha2",
    "1-alpha-123",
    "1-beta-2",
    "1-beta123",
    "1-m2",
    "1-m11",
    "1-rc",
    "1-cr2",
    "1-rc123",
    "1-SNAPSHOT",
    "1",
    "1-sp",
    "1-sp2",
    "1-sp123",
    "1-abc",
    "1-def",
    "1-pom-1",
    "1-1-snapshot",
    "1-1",
    "1-2",
    "1-123",
]
NUMBERS = [
    "2.0",
    "2.0.a",
    "2-1",
    "2.0.2",
    "2.0.123",
    "2.1.0",
    "2.1-a",
    "2.1b",
    "2.1-c",
    "2.1-1",
    "2.1.0.1",
    "2.2",
    "2.123",
    "11.a2",
    "11.a11",
    "11.b2",
    "11.b11",
    "11.m2",
    "11.m11",
    "11",
    "11.a",
    "11b",
    "11c",
    "11m",
]
EQUAL = [
    ("1", "1.0.0"),
    ("1-ga", "1"),
    ("1-final", "1"),
    ("1.release", "1"),
    ("1-cr1", "1-rc1"),
    ("1a1", "1-alpha-1"),
    ("1.0-SNAPSHOT", "1-snapshot"),
    ("1b2", "1-beta-2"),
    ("1m3", "1.0-milestone-3"),
    ("2.0.0.RC1", "2.0.0.rc1"),
]


@pytest.mark.parametrize("ascending", [QUALIFIERS, NUMBERS])
def test_maven_test_orders(ascending: list[str]) -> None:
    for i, low in enumerate(ascending):
        for high in ascending[i + 1 :]:
            assert maven.compare(low, high) < 0 < maven.compare(high, low), (low, high)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal(a: str, b: str) -> None:
    assert maven.compare(a, b) == 0


def test_blank_is_invalid_and_ecosystem() -> None:
    with pytest.raises(VersionError):
        maven.compare("", "1")
    assert scheme_for_ecosystem("Maven").name == "maven"


def test_agrees_with_maven_on_test_orders(maven_oracle: Oracle) -> None:
    everything = QUALIFIERS + NUMBERS + [v for pair in EQUAL for v in pair]
    assert not disagreements(maven.compare, maven_oracle, [(a, b) for a in everything for b in everything])


_MAVEN = Pieces(
    ["1", "1.0", "2.3.4", "0", "10", "1.0.0", "a", "1-", "1."],
    [
        ".",
        "-",
        "0",
        "1",
        "2",
        "10",
        "00",
        "alpha",
        "a",
        "b",
        "m",
        "beta",
        "rc",
        "cr",
        "snapshot",
        "SNAPSHOT",
        "ga",
        "final",
        "release",
        "sp",
        "foo",
        "x",
        "RC",
        "Final",
        "_",
        "1234567890123",
        "99999999999999999999",
    ],
    max_tokens=6,
)


def test_agrees_with_maven_on_generated_versions(maven_oracle: Oracle) -> None:
    assert not disagreements(maven.compare, maven_oracle, random_pairs(_MAVEN, 3000))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_MAVEN.strategy(), _MAVEN.strategy()), min_size=20, max_size=20))
def test_agrees_with_maven_hypothesis(maven_oracle: Oracle, pairs: list[tuple[str, str]]) -> None:
    assert not disagreements(maven.compare, maven_oracle, pairs)
