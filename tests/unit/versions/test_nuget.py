"""NuGet ordering: cases from NuGet.Versioning's VersionComparerTests and NuGetVersionTest."""

from __future__ import annotations

import pytest

from conftest import sign
from containerguard.errors import VersionError
from containerguard.versions.base import scheme_for_ecosystem, schemes
from containerguard.versions.nuget import NugetVersion

nuget = NugetVersion()

EQUAL = [
    ("1.0.0", "1.0.0"),
    ("1.0", "1.0.0.0"),
    ("1", "1.0.0"),
    ("1.0.0-BETA", "1.0.0-beta"),
    ("1.0.0-BETA+AA", "1.0.0-beta+bb"),
    ("1.0.0+metadata", "1.0.0"),
    ("1.0.0-beta.1", "1.0.0-BETA.1"),
    ("01.2.3", "1.2.3"),
]
ASCENDING = [
    "0.0.0",
    "1.0.0-0",
    "1.0.0-1",
    "1.0.0-2",
    "1.0.0-10",
    "1.0.0-2147483648",  # above Int32: compared as text, after numbers
    "1.0.0-Alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-BETA",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.0.1",
    "1.0.1",
    "1.1",
    "2.0.0-preview.1.20230101.1",
    "2.0.0",
]
INVALID = [
    "",
    "a",
    "1.",
    "1.0.0.0.0",
    "1.0.0-",
    "1.0.0-beta..1",
    "1.0.0-beta_1",
    "1.0.0-01",
    "2147483648.0",
    "1.0.0+",
    "-1.0",
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal(a: str, b: str) -> None:
    assert nuget.compare(a, b) == 0


def test_order() -> None:
    for i, low in enumerate(ASCENDING):
        for high in ASCENDING[i + 1 :]:
            assert sign(nuget.compare(low, high)) == -1 and sign(nuget.compare(high, low)) == 1, (low, high)


@pytest.mark.parametrize("version", INVALID)
def test_invalid(version: str) -> None:
    with pytest.raises(VersionError):
        nuget.compare(version, "1.0.0")


def test_registry_has_every_scheme() -> None:
    assert set(schemes()) == {"deb", "rpm", "apk", "pep440", "semver", "go", "maven", "gem", "nuget", "composer"}
    assert scheme_for_ecosystem("NuGet").name == "nuget"
    with pytest.raises(VersionError):
        scheme_for_ecosystem("Nope")
