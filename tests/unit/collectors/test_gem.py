"""Tests for the gem collector (installed specifications/*.gemspec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.gem import GemCollector, parse_gemspec
from containerguard.errors import CollectError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "gem"
GEMS = "usr/local/lib/ruby/gems/3.1.0"


@pytest.mark.parametrize(("path", "wanted"), [
    (f"{GEMS}/specifications/rack-2.2.6.gemspec", True),
    (f"{GEMS}/specifications/default/json-2.6.1.gemspec", True),
    ("usr/local/bundle/specifications/puma-6.0.0.gemspec", True),
    (f"{GEMS}/gems/rack-2.2.6/rack.gemspec", False),
    ("app/myapp.gemspec", False),
    (f"{GEMS}/specifications/rack-2.2.6.gemspec.bak", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert GemCollector().required(FileInfo(path, 10, 0o644)) is wanted


@pytest.mark.parametrize(("rel", "name", "version", "licenses"), [
    ("specifications/rack-2.2.6.gemspec", "rack", "2.2.6", ("MIT",)),
    ("specifications/default/json-2.6.1.gemspec", "json", "2.6.1", ("Ruby", "BSD-2-Clause")),
])
def test_collect_fixtures(rel: str, name: str, version: str, licenses: tuple[str, ...]) -> None:
    content = (FIXTURES / rel).read_bytes()
    pkg, = GemCollector().collect(FileInfo(f"{GEMS}/{rel}", len(content), 0o644, "sha256:l"), content).packages
    assert (pkg.type, pkg.name, pkg.version, pkg.licenses, pkg.purl) == (
        "gem", name, version, licenses, f"pkg:gem/{name}@{version}")
    assert pkg.locations[0].path == f"/{GEMS}/{rel}"


@pytest.mark.parametrize(("text", "expected"), [
    ("s.name = 'nokogiri'\ns.version = Gem::Version.new('1.13.10')\ns.license = 'MIT'\n",
     ("nokogiri", "1.13.10", ("MIT",))),
    ('  spec.name = "x".freeze\n  spec.version = "1.0.0.pre".freeze\n', ("x", "1.0.0.pre", ())),
    ('s.name = "a"\ns.metadata = { "version" => "9" }\ns.version = "2"\ns.licenses = []\n', ("a", "2", ())),
])
def test_parse_gemspec(text: str, expected: tuple[str, str, tuple[str, ...]]) -> None:
    assert parse_gemspec(text) == expected


@pytest.mark.parametrize("content", [b"", b"\xff\x00", b's.name = "x"\n', b'Gem::Specification.new do |s|\nend\n'])
def test_bad_gemspec_raises(content: bytes) -> None:
    with pytest.raises(CollectError):
        GemCollector().collect(FileInfo("specifications/x.gemspec", len(content), 0o644), content)
