"""RubyGems ordering: Gem::Version's own test cases and Gem::Version itself (ruby)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Oracle, Pieces, disagreements, random_pairs, sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.gem import GemVersion

gem = GemVersion()

# rubygems test/rubygems/test_gem_version.rb, test_spaceship and test_semver.
ORDERED = [
    ("1.0", "1.0.a", 1),
    ("1.8.2", "0.0.0", 1),
    ("1.8.2", "1.8.2.a", 1),
    ("1.8.2.b", "1.8.2.a", 1),
    ("1.8.2.a10", "1.8.2.a9", 1),
    ("", "0", 0),
    ("0.beta.1", "0.0.beta.1", 0),
    ("0.0.beta", "0.0.beta.1", -1),
    ("0.0.beta", "0.beta.1", -1),
    ("5.a", "5.0.0.rc2", -1),
    ("5.x", "5.0.0.rc2", 1),
    ("1.0.0-alpha", "1.0.0-alpha.1", -1),
    ("1.0.0-alpha.1", "1.0.0-beta.2", -1),
    ("1.0.0-beta.2", "1.0.0-beta.11", -1),
    ("1.0.0-beta.11", "1.0.0-rc.1", -1),
    ("1.0.0-rc1", "1.0.0", -1),
    ("1.0.0-1", "1", -1),
    ("1.0", "1", 0),
    ("1.0.0.a", "1.0.0.A", 1),
]
INVALID = [
    "junk",
    "1.0\n2.0",
    "1..2",
    "1.2\\ 3.4",
    "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
    "1.0 ",
    "-1",
]


@pytest.mark.parametrize(("a", "b", "expected"), [row for row in ORDERED if row[0]])
def test_orderings(a: str, b: str, expected: int) -> None:
    assert sign(gem.compare(a, b)) == expected
    assert sign(gem.compare(b, a)) == -expected


@pytest.mark.parametrize("version", ["", "junk", "1..2", "1.2\\ 3.4", "-1", "1.0 a"])
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        gem.compare(version, "1.0")


def test_ecosystem() -> None:
    assert scheme_for_ecosystem("RubyGems").name == "gem"


def test_agrees_with_rubygems_on_tables(gem_oracle: Oracle) -> None:
    versions = [v for a, b, _ in ORDERED for v in (a, b) if v] + [v for v in INVALID if "\n" not in v]
    assert not disagreements(gem.compare, gem_oracle, [(a, b) for a in versions for b in versions])


_GEM = Pieces(
    ["0", "1", "1.0", "2.3.4", "10", "01", " 1", "a", "1-"],
    [".", "-", "0", "1", "2", "10", "a", "b", "rc", "pre", "beta", "A", "Z", ".0", ".pre.1", "-1", "x"],
    max_tokens=6,
)


def test_agrees_with_rubygems_on_generated_versions(gem_oracle: Oracle) -> None:
    pairs = random_pairs(_GEM, 3000)
    assert sum(gem.valid(a) and gem.valid(b) for a, b in pairs) > 1000
    assert not disagreements(gem.compare, gem_oracle, pairs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_GEM.strategy(), _GEM.strategy()), min_size=20, max_size=20))
def test_agrees_with_rubygems_hypothesis(gem_oracle: Oracle, pairs: list[tuple[str, str]]) -> None:
    assert not disagreements(gem.compare, gem_oracle, pairs)
