"""apk-tools ordering: cases from apk-tools' test/version.data and consistency on every Alpine feed version."""

from __future__ import annotations

import functools
import itertools
import random

import pytest

from conftest import feed_versions, sign
from containerguard.errors import VersionError
from containerguard.versions.apk import ApkVersion
from containerguard.versions.base import scheme_for_ecosystem

apk = ApkVersion()

# apk-tools test/version.data (a selection: leading zeros, letters, suffix chains, dates).
VERSION_DATA = [
    ("2.34", "0.1.0_alpha", 1),
    ("0.1.0_alpha2", "0.1.0_alpha", 1),
    ("1.1", "1.1_alpha1", 1),
    ("2.3.0b-r1", "2.3.0b-r2", -1),
    ("0.12.3", "0.12", 1),
    ("1.2.11", "1.2.12.1", -1),
    ("1.06-r6", "006", -1),
    ("006", "1.0.0", 1),
    ("2.01.01_alpha10", "0.94", 1),
    ("1.0", "0.99.3.20040818", 1),
    ("1.39", "1.00_beta2", 1),
    ("20060720", "3.0.20060720", 1),
    ("2.5.1-r8", "2.5.1a-r1", -1),
    ("3.0.0-r2", "021109-r3", -1),
    ("3.9_pre20060124", "0.01", 1),
    ("0.01", "0.06", -1),
    ("1.1.7", "6b-r7", -1),
    ("0.10.0", "0.10.1_rc1", -1),
    ("0.20070118", "0.20070207_rc1", -1),
    ("0.20070207_rc1", "1.0", -1),
    ("4.5_p1-r1", "4.5_p1", 1),
    ("0.9.8c-r1", "0.9.8d", -1),
    ("013", "014-r1", -1),
    ("1.7", "1.7b", -1),
    ("1.8.5", "1.8.5_p2", -1),
    ("2.9.11_pre20051101-r3", "2.9.11_pre20051101", 1),
    ("0.9.28.1", "087-r1", -1),
    ("2.12r-r4", "2.12r-r5", -1),
    ("7.0.17", "7.0.174", -1),
    ("1.2.07.8", "1.2.12.04", -1),
    ("1.6d", "1.2.07.8", 1),
    ("0.59s-r11", "0.65", -1),
    ("02.08.01b", "4.77", -1),
    ("1.3-r0", "1.3.1-r0", -1),
    ("1.3_pre1-r1", "1.3.2", -1),
    ("1.0_p10-r0", "1.0_p9-r0", 1),
    ("0.1.0_alpha_pre2", "0.1.0_alpha", -1),
    ("1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1),
    ("22.7.3-r1", "22.7", 1),
    ("2.1_pre20", "2.1_pre26", -1),
    ("1.07-r1", "1.07.5", -1),
]
# Suffix order and revisions (each side of ".1" so the zero rule below stays out of the way).
SUFFIXES = [
    ("1.1_alpha1", "1.1_beta1", -1),
    ("1.1_beta1", "1.1_pre1", -1),
    ("1.1_pre1", "1.1_rc1", -1),
    ("1.1_rc1", "1.1", -1),
    ("1.1", "1.1_cvs1", -1),
    ("1.1_cvs1", "1.1_svn1", -1),
    ("1.1_svn1", "1.1_git1", -1),
    ("1.1_git1", "1.1_hg1", -1),
    ("1.1_hg1", "1.1_p1", -1),
    ("1.1_p1", "1.1_p2", -1),
    ("1.1", "1.1a", -1),
    ("1.1a", "1.1.1", -1),
    ("1.1-r1", "1.1", 1),
    ("1.1-r0", "1.1", 1),
    ("1.1_alpha-r5", "1.1", -1),
    ("1.01", "1.1", -1),
    ("1.001", "1.01", -1),
    ("1.1.1k-r0", "1.1.1l-r0", -1),
    ("3.0.7-r0", "3.0.7-r2", -1),
    ("1.2.3_p20230101-r0", "1.2.3-r9", 1),
]
ORDERED = VERSION_DATA + SUFFIXES


def test_zero_component_before_a_suffix_is_apk_tools_quirk() -> None:
    # apk-tools 2 tokenizes ".0" as a leading-zero run and then an empty number, so "1.0_rc1" sorts
    # after "1.0" while "1.1_rc1" sorts before "1.1". We keep apk's order: it is what apk upgrades by.
    assert apk.compare("1.0_rc1", "1.0") > 0
    assert apk.compare("1.1_rc1", "1.1") < 0
    assert apk.compare("1.0_rc1", "1.0_rc2") < 0


# apk-tools' validator is lenient ("1..0", "v1.0", "1.0-r" pass); these it rejects.
INVALID = ["", "1.0-", "1.0_foo", "1.0_p1a", "1.0--r1", "1.0 ", "1_rc1.2", "1.0-1", "1.0-r1_p1"]


@pytest.mark.parametrize(("a", "b", "expected"), ORDERED)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert sign(apk.compare(a, b)) == expected
    assert sign(apk.compare(b, a)) == -expected


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        apk.compare(version, "1.0")


@pytest.mark.parametrize("ecosystem", ["Alpine:v3.18", "Wolfi", "Chainguard"])
def test_ecosystems(ecosystem: str) -> None:
    assert scheme_for_ecosystem(ecosystem).name == "apk"


def test_every_alpine_feed_version_is_valid_and_totally_ordered() -> None:
    versions = list(feed_versions("alpine"))
    assert len(versions) > 1000
    # The secdb has a few versions apk itself would reject (a Debian-style "-33" revision).
    assert sorted(v for v in versions if not apk.valid(v)) == ["1.11-20-r0", "2.7.16-33", "4.10-1-r1", "57-1-r2"]
    versions = [v for v in versions if apk.valid(v)]
    ordered = sorted(versions, key=functools.cmp_to_key(apk.compare))
    # A total order: neighbours ascend, and random triples are transitive.
    assert all(apk.compare(a, b) <= 0 for a, b in itertools.pairwise(ordered))
    rng = random.Random(0)
    for _ in range(2000):
        i, j = sorted(rng.sample(range(len(ordered)), 2))
        assert apk.compare(ordered[i], ordered[j]) <= 0
