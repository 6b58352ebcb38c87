"""Tests for the composer collector (vendor/composer/installed.json, Composer 1 and 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.composer import ComposerCollector
from containerguard.errors import CollectError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "composer"


@pytest.mark.parametrize(("path", "wanted"), [
    ("var/www/vendor/composer/installed.json", True),
    ("vendor/composer/installed.json", True),
    ("var/www/composer.lock", False),
    ("var/www/vendor/composer/installed.php", False),
])
def test_required(path: str, wanted: bool) -> None:
    assert ComposerCollector().required(FileInfo(path, 10, 0o644)) is wanted


@pytest.mark.parametrize(("rel", "expected"), [
    ("vendor/composer/installed.json", [
        ("guzzlehttp", "psr7", "1.8.2", ("MIT",), False, "pkg:composer/guzzlehttp/psr7@1.8.2"),
        ("symfony", "polyfill-mbstring", "v1.27.0", ("MIT",), False,
         "pkg:composer/symfony/polyfill-mbstring@v1.27.0"),
        ("phpunit", "phpunit", "9.5.10", ("BSD-3-Clause",), True, "pkg:composer/phpunit/phpunit@9.5.10"),
    ]),
    ("installed-v1.json", [
        ("monolog", "monolog", "1.25.1", ("MIT",), False, "pkg:composer/monolog/monolog@1.25.1"),
        ("psr", "log", "1.1.0", ("MIT",), False, "pkg:composer/psr/log@1.1.0"),
    ]),
])
def test_collect(rel: str, expected: list[tuple[object, ...]]) -> None:
    content = (FIXTURES / rel).read_bytes()
    info = FileInfo("var/www/vendor/composer/installed.json", len(content), 0o644, "sha256:l")
    result = ComposerCollector().collect(info, content)
    assert [(p.namespace, p.name, p.version, p.licenses, p.dev, p.purl) for p in result.packages] == expected
    assert all(p.type == "composer" for p in result.packages)


def test_entries_without_vendor_or_version_are_ignored() -> None:
    content = (b'{"packages": [{"name": "novendor", "version": "1"}, {"name": "a/b"}, 7, '
               b'{"name": "c/d", "version": "2"}]}')
    result = ComposerCollector().collect(FileInfo("vendor/composer/installed.json", 1, 0o644), content)
    assert [p.name for p in result.packages] == ["d"]


@pytest.mark.parametrize("content", [b"{", b'{"packages": {}}', b"12", b'{"dev": true}'])
def test_bad_file_raises(content: bytes) -> None:
    with pytest.raises(CollectError):
        ComposerCollector().collect(FileInfo("vendor/composer/installed.json", 1, 0o644), content)
