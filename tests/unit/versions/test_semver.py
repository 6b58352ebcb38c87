"""SemVer precedence: the SemVer 2.0 spec's examples, and node-semver on npm feed and generated versions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Oracle, Pieces, disagreements, feed_pairs, feed_versions, random_pairs, sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.semver import SemverVersion

semver = SemverVersion()

# semver.org §11, ascending.
ASCENDING = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]
EQUAL = [("1.0.0+build.1", "1.0.0+build.2"), ("v1.2.3", "1.2.3"), ("=1.2.3", "1.2.3"), (" 1.2.3 ", "1.2.3")]
INVALID = ["", "0", "1.0", "01.2.3", "1.2.3-01", "1.2.3beta", "1.2.3-", "1.2.3+", "a.b.c", "9007199254740992.0.0"]


def test_spec_order() -> None:
    for low, high in itertools.pairwise(ASCENDING):
        assert semver.compare(low, high) < 0 < semver.compare(high, low)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal(a: str, b: str) -> None:
    assert semver.compare(a, b) == 0


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        semver.compare(version, "1.0.0")


@pytest.mark.parametrize("ecosystem", ["npm", "crates.io", "Hex", "Pub", "SwiftURL"])
def test_ecosystems(ecosystem: str) -> None:
    assert scheme_for_ecosystem(ecosystem).name == "semver"


def test_agrees_with_node_semver_on_tables(node_semver_oracle: Oracle) -> None:
    pairs = [(a, b) for a in ASCENDING for b in ASCENDING] + [
        (v, "1.0.0") for v in INVALID if v.strip() and "=" not in v
    ]
    assert not disagreements(semver.compare, node_semver_oracle, pairs)


def test_agrees_with_node_semver_on_feed_versions(node_semver_oracle: Oracle) -> None:
    # "0" (OSV's "since the beginning") and "1.0" are in the feed and invalid for both.
    assert not disagreements(semver.compare, node_semver_oracle, feed_pairs(feed_versions("npm"), 1500))


_SEMVER = Pieces(
    ["0.0.0", "1.0.0", "1.2.3", "10.20.30", "0.0.1", "2.0.0", "1.2.3-", "1.2.3+", "v1.0.0", "1.0.0-0."],
    [
        "alpha",
        "beta",
        ".",
        "-",
        "0",
        "1",
        "11",
        "2",
        "rc",
        "x.7.z.92",
        "01",
        "a1",
        "1a",
        "+build",
        ".5",
        "-rc.1",
        "A",
        "Z9",
    ],
    max_tokens=5,
)


def test_agrees_with_node_semver_on_generated_versions(node_semver_oracle: Oracle) -> None:
    pairs = random_pairs(_SEMVER, 3000)
    assert sum(semver.valid(a) and semver.valid(b) for a, b in pairs) > 600
    assert not disagreements(semver.compare, node_semver_oracle, pairs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_SEMVER.strategy(), _SEMVER.strategy()), min_size=20, max_size=20))
def test_agrees_with_node_semver_hypothesis(node_semver_oracle: Oracle, pairs: list[tuple[str, str]]) -> None:
    assert not disagreements(semver.compare, node_semver_oracle, pairs)


def test_lodash_fix() -> None:
    assert sign(semver.compare("4.17.4", "4.17.5")) == -1
