"""Go module ordering: x/mod/semver's cases, toolchain names, and golang.org/x/mod/semver itself."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Oracle, Pieces, disagreements, feed_pairs, feed_versions, random_pairs, sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.go import GoVersion, go_tag_to_semver

go = GoVersion()

# golang.org/x/mod/semver's semver_test.go ascending list (valid entries), then pseudo-versions.
ASCENDING = [
    "v0.0.0-20180713131340-b395d2d6f5ee",
    "v0.1.0-beta",
    "v0.1.0",
    "v1.0.0-alpha",
    "v1.0.0-alpha.1",
    "v1.0.0-alpha.beta",
    "v1.0.0-beta",
    "v1.0.0-beta.2",
    "v1.0.0-beta.11",
    "v1.0.0-rc.1",
    "v1",
    "v1.2.0-0.20210101000000-abcdef123456",
    "v1.2",
    "v1.2.3-456",
    "v1.2.3-456.789",
    "v1.2.3-456-789",
    "v1.2.3-456a",
    "v1.2.3-pre",
    "v1.2.3-pre.1",
    "v1.2.3-zzz",
    "v1.2.3",
    "v1.2.4-0.20200101000000-000000000000",
    "v2.0.0+incompatible",
]
EQUAL = [
    ("v1.0.0", "1.0.0"),
    ("v1", "v1.0.0"),
    ("v1.2", "1.2.0"),
    ("v2.0.0+incompatible", "2.0.0"),
    ("go1.19.8", "1.19.8"),
]
INVALID = ["", "vx", "v1.2.3.4", "v01.2.3", "v1.2.3-01", "v1.2-pre", "v1.2.3-", "v1.2.3+", "go1.0", "gox"]
TAGS = [
    ("go1", "v1.0.0"),
    ("go1.19.8", "v1.19.8"),
    ("go1.20", "v1.20.0"),
    ("go1.21rc2", "v1.21.0-rc.2"),
    ("go1.9beta1", "v1.9.0-beta.1"),
]


def test_order() -> None:
    for low, high in itertools.pairwise(ASCENDING):
        assert go.compare(low, high) < 0 < go.compare(high, low), (low, high)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal(a: str, b: str) -> None:
    assert go.compare(a, b) == 0


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        go.compare(version, "1.0.0")


@pytest.mark.parametrize(("tag", "semver"), TAGS)
def test_toolchain_tags(tag: str, semver: str) -> None:
    assert go_tag_to_semver(tag) == semver
    assert go.compare(tag, semver) == 0


def test_stdlib_fix_and_ecosystem() -> None:
    assert sign(go.compare("go1.19.8", "1.19.9")) == -1
    assert sign(go.compare("go1.21rc2", "1.21.0")) == -1
    assert scheme_for_ecosystem("Go").name == "go"


def _v(version: str) -> str:
    return version if version.startswith("v") else "v" + version


def test_agrees_with_x_mod_semver_on_feed_versions(go_oracle: Oracle) -> None:
    versions = feed_versions("go")
    assert len(versions) > 150
    assert not disagreements(go.compare, go_oracle, feed_pairs(versions, 2000), to_oracle=_v)


_GO = Pieces(
    ["v0.0.0", "v1.0.0", "v1.2.3", "v0.3.1", "v2.0.0", "v1", "v1.2", "v1.2.3-", "0.0.0", "1.19.8"],
    [
        "-",
        ".",
        "0",
        "1",
        "01",
        "20210101000000",
        "-abcdef123456",
        "rc",
        "beta",
        "pre",
        "+incompatible",
        "x",
        "-0.",
        "A",
    ],
    max_tokens=5,
)


def test_agrees_with_x_mod_semver_on_generated_versions(go_oracle: Oracle) -> None:
    assert not disagreements(go.compare, go_oracle, random_pairs(_GO, 3000), to_oracle=_v)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_GO.strategy(), _GO.strategy()), min_size=20, max_size=20))
def test_agrees_with_x_mod_semver_hypothesis(go_oracle: Oracle, pairs: list[tuple[str, str]]) -> None:
    assert not disagreements(go.compare, go_oracle, pairs, to_oracle=_v)
