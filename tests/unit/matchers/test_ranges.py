"""OSV range evaluation (the schema's IsVulnerable pseudocode), with a fake dotted-number scheme."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from matchfakes import DottedScheme, affected, rng

from containerguard.errors import VersionError
from containerguard.matchers.ranges import RangeHit, evaluate, semver_form
from containerguard.models.advisory import AffectedRange

S = DottedScheme()

# (name, ranges, versions list, installed, expected (range text, fixed) or None)
CASES = [
    ("introduced 0 fixed, below", [rng(("introduced", "0"), ("fixed", "2.0"))], (), "1.9",
     ("ECOSYSTEM [0, 2.0)", "2.0")),
    ("introduced 0 fixed, at fix", [rng(("introduced", "0"), ("fixed", "2.0"))], (), "2.0", None),
    ("introduced 0 fixed, above", [rng(("introduced", "0"), ("fixed", "2.0"))], (), "3.1", None),
    ("introduced bound is inclusive", [rng(("introduced", "1.0"), ("fixed", "2.0"))], (), "1.0",
     ("ECOSYSTEM [1.0, 2.0)", "2.0")),
    ("below introduced", [rng(("introduced", "1.0"), ("fixed", "2.0"))], (), "0.9", None),
    ("two intervals, first", [rng(("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"), ("fixed", "2.5"))],
     (), "1.2", ("ECOSYSTEM [1.0, 1.5)", "1.5")),
    ("two intervals, gap", [rng(("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"), ("fixed", "2.5"))],
     (), "1.7", None),
    ("two intervals, second", [rng(("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"), ("fixed", "2.5"))],
     (), "2.4.9", ("ECOSYSTEM [2.0, 2.5)", "2.5")),
    ("events out of order are sorted", [rng(("fixed", "2.5"), ("introduced", "2.0"), ("fixed", "1.5"),
                                            ("introduced", "1.0"))], (), "2.1", ("ECOSYSTEM [2.0, 2.5)", "2.5")),
    ("last_affected is inclusive", [rng(("introduced", "0"), ("last_affected", "2.0"))], (), "2.0",
     ("ECOSYSTEM [0, 2.0]", "")),
    ("past last_affected", [rng(("introduced", "0"), ("last_affected", "2.0"))], (), "2.0.1", None),
    ("unfixed", [rng(("introduced", "1.0"))], (), "99.0", ("ECOSYSTEM [1.0, *)", "")),
    ("below limit", [rng(("introduced", "0"), ("limit", "2.0"))], (), "1.0", ("ECOSYSTEM [0, *)", "")),
    ("at limit", [rng(("introduced", "0"), ("limit", "2.0"))], (), "2.0", None),
    ("limit * is infinity", [rng(("introduced", "0"), ("limit", "*"))], (), "1000", ("ECOSYSTEM [0, *)", "")),
    ("any of several limits", [rng(("introduced", "0"), ("limit", "1.0"), ("limit", "3.0"))], (), "2.0",
     ("ECOSYSTEM [0, *)", "")),
    ("versions list exact", [], ("1.3", "1.4"), "1.4", ("versions 1.4", "")),
    ("versions list by scheme equality", [], ("1.4",), "1.4.0", ("versions 1.4", "")),
    ("versions list miss", [], ("1.3", "1.4"), "1.5", None),
    ("odd listed version is ignored", [], ("weird-tag", "1.4"), "1.4", ("versions 1.4", "")),
    ("range beats list for the fix", [rng(("introduced", "0"), ("fixed", "1.6"))], ("1.4",), "1.4",
     ("ECOSYSTEM [0, 1.6)", "1.6")),
    ("GIT ranges never match", [rng(("introduced", "0"), kind="GIT")], (), "1.0", None),
    ("SEMVER range, v-prefixed installed", [rng(("introduced", "1.19.0"), ("fixed", "1.19.9"), kind="SEMVER")], (),
     "v1.19.8", ("SEMVER [1.19.0, 1.19.9)", "1.19.9")),
    ("second range matches", [rng(("introduced", "0"), ("fixed", "1.0")), rng(("introduced", "5.0"))], (), "6.0",
     ("ECOSYSTEM [5.0, *)", "")),
]


@pytest.mark.parametrize(("ranges", "versions", "installed", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_evaluate(ranges: list[AffectedRange], versions: tuple[str, ...], installed: str,
                  expected: tuple[str, str] | None) -> None:
    hit = evaluate(installed, affected("Eco", "pkg", *ranges, versions=versions), S, S)
    assert (None if hit is None else (hit.range, hit.fixed)) == expected


def test_unparsable_event_raises() -> None:
    with pytest.raises(VersionError):
        evaluate("1.0", affected("Eco", "pkg", rng(("introduced", "0"), ("fixed", "abc"))), S, S)


def test_listed_version_survives_an_unreadable_range() -> None:
    entry = affected("Eco", "pkg", rng(("introduced", "0"), ("fixed", "abc")), versions=("1.0",))
    hit = evaluate("1.0", entry, S, S)
    assert hit is not None and hit.range == "versions 1.0"


@pytest.mark.parametrize(("raw", "expected"), [("v1.2.3", "1.2.3"), ("1.2.3", "1.2.3"), ("vendor", "vendor")])
def test_semver_form(raw: str, expected: str) -> None:
    assert semver_form(raw) == expected


def _outcome(evaluate_range: Callable[..., RangeHit | None], *args: object) -> RangeHit | str | None:
    try:
        return evaluate_range(*args)
    except VersionError as exc:
        return f"VersionError: {exc}"


@pytest.mark.parametrize("scheme_name", ["deb", "pep440", "semver"])
def test_two_event_fast_path_equals_the_general_evaluation(scheme_name: str) -> None:
    """in_range skips the sort for introduced-then-fixed/last_affected ranges; the general evaluation
    of the schema's pseudocode must give the same answer, range text and fixed version."""
    import itertools

    from containerguard.matchers.ranges import _general_range, in_range
    from containerguard.versions.base import scheme_named

    scheme = scheme_named(scheme_name)
    assert scheme is not None
    versions = {"deb": ["0", "1.0-1", "1.0-2", "1:0.9", "2.0~rc1", "2.0", "2.0+deb12u1"],
                "pep440": ["0", "1.0", "1.0.post1", "2.0rc1", "2.0", "2.0.0", "10"],
                "semver": ["0", "1.0.0", "1.0.1", "2.0.0-rc.1", "2.0.0", "10.0.0"]}[scheme_name]
    checked = 0
    for (start, end), kinds in itertools.product(itertools.product(versions, repeat=2),
                                                 [("introduced", "fixed"), ("introduced", "last_affected"),
                                                  ("fixed", "introduced")]):
        if kinds[0] != "introduced" and start == "0":
            continue
        r = rng((kinds[0], start), (kinds[1], end))
        for installed in versions[1:]:
            assert _outcome(in_range, installed, r, scheme) == _outcome(_general_range, installed, r, scheme), (
                r, installed)
            checked += 1
    assert checked > 200
