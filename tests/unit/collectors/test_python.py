"""Tests for the python collector (dist-info METADATA, egg-info PKG-INFO and single-file egg-info)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.python import PythonCollector, licenses_of, normalise_name
from containerguard.errors import CollectError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "python" / "site-packages"
SITE = "usr/local/lib/python3.11/site-packages"


def _info(rel: str, size: int = 100, mode: int = 0o644) -> FileInfo:
    return FileInfo(path=f"{SITE}/{rel}", size=size, mode=mode, layer_digest="sha256:l1")


@pytest.mark.parametrize(("path", "wanted"), [
    (f"{SITE}/requests-2.31.0.dist-info/METADATA", True),
    ("usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO", True),
    ("usr/lib/python3.11/site-packages/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", True),
    ("usr/lib/python2.7/wsgiref.egg-info", True),
    (f"{SITE}/requests-2.31.0.dist-info/RECORD", False),
    (f"{SITE}/requests/METADATA", False),
    ("src/project/PKG-INFO", False),
    ("usr/share/doc/METADATA.dist-info.txt", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert PythonCollector().required(FileInfo(path, 100, 0o644)) is wanted


@pytest.mark.parametrize(("rel", "name", "version", "licenses", "purl"), [
    ("mypy_extensions-1.2.0.dist-info/METADATA", "mypy-extensions", "1.2.0", ("MIT",),
     "pkg:pypi/mypy-extensions@1.2.0"),
    ("typing_inspection-0.4.5.dist-info/METADATA", "typing-inspection", "0.4.5", ("MIT",),
     "pkg:pypi/typing-inspection@0.4.5"),
    ("PyJWT-2.6.0.egg-info/PKG-INFO", "pyjwt", "2.6.0", ("MIT",), "pkg:pypi/pyjwt@2.6.0"),
    ("wsgiref.egg-info", "wsgiref", "0.1.2", ("PSF or ZPL",), "pkg:pypi/wsgiref@0.1.2"),
])
def test_collect_fixtures(rel: str, name: str, version: str, licenses: tuple[str, ...],
                          purl: str) -> None:
    content = (FIXTURES / rel).read_bytes()
    result = PythonCollector().collect(_info(rel, len(content)), content)
    assert len(result.packages) == 1
    pkg = result.packages[0]
    assert (pkg.type, pkg.name, pkg.version, pkg.licenses, pkg.purl) == (
        "pypi", name, version, licenses, purl)
    assert pkg.locations[0].path == f"/{SITE}/{rel}"
    assert pkg.locations[0].layer_digest == "sha256:l1"


@pytest.mark.parametrize(("headers", "expected"), [
    ({"license-expression": ["Apache-2.0 OR MIT"], "license": ["MIT"]}, ("Apache-2.0 OR MIT",)),
    ({"license": ["BSD"]}, ("BSD",)),
    ({"license": ["UNKNOWN"], "classifier": ["License :: OSI Approved :: BSD License"]}, ("BSD License",)),
    ({"license": ["Copyright (c) 2020\n        Permission is hereby granted"],
      "classifier": ["License :: OSI Approved :: MIT License", "Topic :: Utilities"]}, ("MIT License",)),
    ({"classifier": ["License :: OSI Approved"]}, ()),
    ({}, ()),
])
def test_licenses_of(headers: dict[str, list[str]], expected: tuple[str, ...]) -> None:
    assert licenses_of(headers) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Django", "django"), ("zope.interface", "zope.interface"), ("typing_extensions", "typing-extensions"),
])
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_classifier_only_and_folded_license() -> None:
    content = (b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n"
               b"License: Copyright 2020 Someone\n    Permission is hereby granted\n"
               b"Classifier: License :: OSI Approved :: Apache Software License\n\nBody: not a header\n")
    pkg = PythonCollector().collect(_info("Foo_Bar-1.0.dist-info/METADATA"), content).packages[0]
    assert (pkg.name, pkg.licenses, pkg.purl) == ("foo-bar", ("Apache Software License",),
                                                  "pkg:pypi/foo-bar@1.0")


@pytest.mark.parametrize("content", [b"", b"\x00\xff\xfe garbage", b"Name: only-name\n",
                                     b"Version: 1.0\n", b"\n\nName: x\nVersion: 1\n"])
def test_bad_metadata_raises(content: bytes) -> None:
    with pytest.raises(CollectError):
        PythonCollector().collect(_info("x-1.dist-info/METADATA"), content)


def test_oversized_is_skipped() -> None:
    content = b"Name: x\nVersion: 1\n" + b"x" * (4 * 1024 * 1024 + 1)
    result = PythonCollector().collect(_info("x-1.dist-info/METADATA"), content)
    assert not result.packages
    assert "too large" in result.skipped[0].reason
