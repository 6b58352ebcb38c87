"""Tests for the npm collector (package.json of packages installed in node_modules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.npm import NpmCollector, is_installed_manifest, licenses_of
from containerguard.errors import CollectError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "npm"


@pytest.mark.parametrize(("path", "wanted"), [
    ("app/node_modules/ms/package.json", True),
    ("node_modules/ms/package.json", True),
    ("usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json", True),
    ("app/node_modules/a/node_modules/b/package.json", True),
    ("app/node_modules/.pnpm/ms@2.0.0/node_modules/ms/package.json", True),
    ("app/package.json", False),
    ("app/node_modules/ms/lib/package.json", False),
    ("app/node_modules/@types/package.json", False),
    ("app/node_modules/.package-lock.json", False),
    ("app/node_modules/ms/package.json.bak", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert NpmCollector().required(FileInfo(path, 10, 0o644)) is wanted
    assert is_installed_manifest(path) is wanted


@pytest.mark.parametrize(("rel", "namespace", "name", "version", "licenses", "purl"), [
    ("node_modules/ms/package.json", "", "ms", "2.0.0", ("MIT",), "pkg:npm/ms@2.0.0"),
    ("node_modules/@types/node/package.json", "@types", "node", "18.0.0", ("MIT",),
     "pkg:npm/%40types/node@18.0.0"),
])
def test_collect_fixtures(rel: str, namespace: str, name: str, version: str,
                          licenses: tuple[str, ...], purl: str) -> None:
    content = (FIXTURES / rel).read_bytes()
    info = FileInfo("app/" + rel, len(content), 0o644, "sha256:l")
    pkg, = NpmCollector().collect(info, content).packages
    assert (pkg.type, pkg.namespace, pkg.name, pkg.version, pkg.licenses, pkg.purl, pkg.dev) == (
        "npm", namespace, name, version, licenses, purl, False)
    assert pkg.locations[0].path == "/app/" + rel


@pytest.mark.parametrize(("manifest", "expected"), [
    ({"license": "MIT"}, ("MIT",)),
    ({"license": {"type": "BSD-3-Clause", "url": "x"}}, ("BSD-3-Clause",)),
    ({"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}, ("MIT", "Apache-2.0")),
    ({"license": "(MIT OR Apache-2.0)"}, ("(MIT OR Apache-2.0)",)),
    ({"license": 5}, ()),
    ({}, ()),
])
def test_licenses_of(manifest: dict[str, object], expected: tuple[str, ...]) -> None:
    assert licenses_of(manifest) == expected


@pytest.mark.parametrize("manifest", [{"type": "module"}, {"name": "x"}, {"version": "1.0.0"},
                                      {"name": 1, "version": "1"}, {"name": "x", "version": ""}])
def test_stub_manifests_are_not_packages(manifest: dict[str, object]) -> None:
    content = json.dumps(manifest).encode()
    result = NpmCollector().collect(FileInfo("node_modules/x/package.json", len(content), 0o644), content)
    assert result.packages == () and result.skipped == ()


@pytest.mark.parametrize("content", [b"{", b"[1, 2]", b"\xff\xfe", b'"str"'])
def test_bad_json_raises(content: bytes) -> None:
    with pytest.raises(CollectError):
        NpmCollector().collect(FileInfo("node_modules/x/package.json", len(content), 0o644), content)
