"""Tests for the dotnet-deps collector (*.deps.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.dotnet import DotnetDepsCollector
from containerguard.errors import CollectError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dotnet-deps"


@pytest.mark.parametrize(("path", "wanted"), [
    ("app/app.deps.json", True), ("usr/share/dotnet/shared/Microsoft.NETCore.App/6.0.0/x.deps.json", True),
    ("app/app.runtimeconfig.json", False), ("app/deps.json.bak", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert DotnetDepsCollector().required(FileInfo(path, 10, 0o644)) is wanted


def test_collect_fixture() -> None:
    content = (FIXTURES / "app.deps.json").read_bytes()
    result = DotnetDepsCollector().collect(FileInfo("app/app.deps.json", len(content), 0o644, "sha256:l"), content)
    assert [(p.type, p.name, p.version, p.purl) for p in result.packages] == [
        ("nuget", "Newtonsoft.Json", "13.0.1", "pkg:nuget/Newtonsoft.Json@13.0.1"),
        ("nuget", "System.Text.Encodings.Web", "4.7.1", "pkg:nuget/System.Text.Encodings.Web@4.7.1"),
    ]
    assert result.packages[0].locations[0].path == "/app/app.deps.json"


def test_bom_and_odd_entries() -> None:
    content = ('\ufeff{"libraries": {"A/1.0": {"type": "package"}, "B": {"type": "package"}, '
               '"C/2.0": {"type": "project"}, "D/3.0": 5}}').encode()
    result = DotnetDepsCollector().collect(FileInfo("a.deps.json", len(content), 0o644), content)
    assert [(p.name, p.version) for p in result.packages] == [("A", "1.0")]


@pytest.mark.parametrize("content", [b"{", b"[]", b'{"libraries": []}', b"{}"])
def test_bad_file_raises(content: bytes) -> None:
    with pytest.raises(CollectError):
        DotnetDepsCollector().collect(FileInfo("a.deps.json", len(content), 0o644), content)
