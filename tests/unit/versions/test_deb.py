"""dpkg ordering: dpkg's own test cases, dpkg --compare-versions, and libapt on thousands of pairs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Glued, Oracle, Pieces, disagreements, feed_pairs, feed_versions, random_pairs, sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem
from containerguard.versions.deb import DebVersion

deb = DebVersion()

# From dpkg's lib/dpkg/t/t-version.c, Debian Policy §5.6.12 and real security fixes.
ORDERED = [
    ("1.0", "1.0", 0),
    ("1.0", "1.0-0", 0),
    ("0:1.0", "1.0", 0),
    ("1:0.1", "2.0", 1),
    ("1.0~rc1", "1.0", -1),
    ("1.0~~", "1.0~~a", -1),
    ("1.0~~a", "1.0~", -1),
    ("1.0~", "1.0", -1),
    ("1.0", "1.0a", -1),
    ("1.0a", "1.0+", -1),
    ("1.0+", "1.0.1", -1),
    ("1.0-1", "1.0-1+deb12u1", -1),
    ("1.0-1~bpo12+1", "1.0-1", -1),
    ("2.36-9+deb12u4", "2.36-9+deb12u10", -1),
    ("3.0.11-1~deb12u2", "3.0.11-1", -1),
    ("1.2.3-1ubuntu0.1", "1.2.3-1ubuntu1", -1),
    ("0001.0", "1.0", 0),
    ("1.010", "1.9", 1),
    ("a", "b", -1),
    ("1:8.9p1-3", "1:8.9p1-3ubuntu0.1", -1),
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u15", -1),
    ("1.0-a", "1.0-A", 1),
]
INVALID = ["", "   ", "1 0", ":1", "a:1", "-1:1", "1:", "1.0-", "-1", "1:-1", "99999999999:1"]


@pytest.mark.parametrize(("a", "b", "expected"), ORDERED)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert sign(deb.compare(a, b)) == expected
    assert sign(deb.compare(b, a)) == -expected


@pytest.mark.parametrize("version", INVALID)
def test_invalid_versions_raise(version: str) -> None:
    with pytest.raises(VersionError):
        deb.compare(version, "1.0")
    assert not deb.valid(version)


def test_dpkg_warnings_are_still_versions() -> None:
    # dpkg only warns about these and compares them; so do we.
    assert deb.valid("a1.0") and deb.valid("1.0_1") and deb.valid("+1:2")
    assert scheme_for_ecosystem("Debian:12").name == "deb"
    assert scheme_for_ecosystem("Ubuntu:22.04:LTS").name == "deb"


def _dpkg(a: str, b: str) -> int | None:
    def holds(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True).returncode == 0

    probe = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True)
    if probe.returncode not in (0, 1):
        return None
    return -1 if probe.returncode == 0 else (0 if holds("eq") else 1)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="no dpkg")
def test_agrees_with_dpkg_itself() -> None:
    # dpkg is one process per comparison: a few hundred pairs, including the edge cases above.
    versions = feed_versions("debian") + feed_versions("ubuntu")
    pairs = [(a, b) for a, b, _ in ORDERED] + [(v, "1.0") for v in INVALID if v.strip() and "-" not in v[:1]]
    pairs += feed_pairs(versions, 40, seed=1)[-40:]
    bad = []
    for a, b in pairs:
        try:
            got: int | None = sign(deb.compare(a, b))
        except VersionError:
            got = None
        if got != _dpkg(a, b):
            bad.append((a, b, got))
    assert not bad


def test_agrees_with_libapt_on_feed_versions(apt_pkg_oracle: Oracle) -> None:
    versions = feed_versions("debian") + feed_versions("ubuntu")
    assert len(versions) > 200
    assert not disagreements(deb.compare, apt_pkg_oracle, feed_pairs(versions, 3000))


_DEB = Glued(
    Pieces(
        ["0", "1", "2", "10", "01", "1:1", "2:0", "0:3"],
        [
            ".0",
            ".1",
            ".2",
            ".10",
            ".02",
            "a",
            "b",
            "z",
            "p1",
            "~",
            "~rc1",
            "~~",
            "+",
            "+dfsg",
            "+git2023",
            ".",
            "~beta",
            "A",
        ],
    ),
    Pieces(
        ["", "-1", "-0", "-2", "-10", "-1ubuntu", "-a"],
        [".1", "+deb12u1", "+deb12u10", "~deb12u1", "ubuntu0.1", "build1", "~bpo12+1", "+b1", "~", "+"],
        max_tokens=3,
    ),
)


def test_agrees_with_libapt_on_generated_versions(apt_pkg_oracle: Oracle) -> None:
    pairs = random_pairs(_DEB, 3000, keep=deb.valid)
    assert len(pairs) > 3000
    assert not disagreements(deb.compare, apt_pkg_oracle, pairs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_DEB.strategy(), _DEB.strategy()), min_size=20, max_size=20))
def test_agrees_with_libapt_hypothesis(apt_pkg_oracle: Oracle, pairs: list[tuple[str, str]]) -> None:
    pairs = [(a, b) for a, b in pairs if deb.valid(a) and deb.valid(b)]
    assert not disagreements(deb.compare, apt_pkg_oracle, pairs)


def _by_verrevcmp(a: str, b: str) -> int:
    from containerguard.versions.deb import parse, verrevcmp

    (ea, ua, ra), (eb, ub, rb) = parse(a), parse(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return verrevcmp(ua, ub) or verrevcmp(ra, rb)


@settings(max_examples=3000, deadline=None)
@given(st.text("0123456789.~+-:aAzZ", min_size=1, max_size=9), st.text("0123456789.~+-:aAzZ", min_size=1, max_size=9))
def test_sort_key_orders_as_the_verrevcmp_port(a: str, b: str) -> None:
    # compare() goes through cached tuple keys; dpkg's loop, ported as verrevcmp, is the reference.
    try:
        expected = _by_verrevcmp(a, b)
    except VersionError:
        return
    assert deb.compare(a, b) == sign(expected)
