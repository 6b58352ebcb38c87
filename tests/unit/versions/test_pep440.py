"""PEP 440 ordering through packaging.version: the PEP's own examples and every PyPI feed version."""

from __future__ import annotations

import itertools

import pytest

from conftest import feed_versions, sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.pep440 import Pep440Version

pep = Pep440Version()

# PEP 440 "Summary of permitted suffixes and relative ordering", in ascending order.
ASCENDING = [
    "1.dev0",
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0rc1.dev456",
    "1.0rc1",
    "1.0",
    "1.0+abc.5",
    "1.0+abc.7",
    "1.0+5",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.0.15",
    "1.1.dev1",
    "1!0.1",
]
EQUAL = [("1.0", "1.0.0"), ("1.0RC1", "1.0rc1"), ("1.0-post1", "1.0.post1"), ("v1.0", "1.0"), ("1.0alpha1", "1.0a1")]
INVALID = ["", "latest", "2.0-foo-bar", "1.0.x", "1..0", "dev"]


def test_pep_order() -> None:
    for low, high in itertools.pairwise(ASCENDING):
        assert pep.compare(low, high) < 0 < pep.compare(high, low)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_spellings(a: str, b: str) -> None:
    assert pep.compare(a, b) == 0


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        pep.compare(version, "1.0")


def test_every_pypi_feed_version_parses() -> None:
    versions = feed_versions("pypi")
    assert len(versions) > 500
    assert [v for v in versions if not pep.valid(v)] == []
    assert sign(pep.compare("3.2.0", "3.2.4")) == -1  # Django 3.2.0 is before the CVE-2021-33203 fix
    assert scheme_for_ecosystem("PyPI").name == "pep440"
