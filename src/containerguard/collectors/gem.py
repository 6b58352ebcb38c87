"""Installed Ruby gems: the ``specifications/*.gemspec`` files RubyGems writes at install time.

These are Ruby code (``Gem::Specification.new do |s| s.name = "rake".freeze …``); like Trivy we
read the few assignments we need with regular expressions and never evaluate anything.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Package
from containerguard.registry import register

_MAX_BYTES = 1024 * 1024
_QUOTED = r"""["']([^"']+)["'](?:\.freeze)?"""
_NAME = re.compile(r"^\s*\w+\.name\s*=\s*" + _QUOTED, re.MULTILINE)
_VERSION = re.compile(r"^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\(\s*)?" + _QUOTED, re.MULTILINE)
_LICENSE = re.compile(r"^\s*\w+\.license\s*=\s*" + _QUOTED, re.MULTILINE)
_LICENSES = re.compile(r"^\s*\w+\.licenses\s*=\s*\[([^\]]*)\]", re.MULTILINE)
_ITEM = re.compile(r"""["']([^"']+)["']""")


def parse_gemspec(text: str) -> tuple[str, str, tuple[str, ...]]:
    """(name, version, licences) of an installed gemspec."""
    name, version = _NAME.search(text), _VERSION.search(text)
    if not name or not version:
        raise CollectError("gemspec has no s.name or s.version assignment")
    licenses: list[str] = []
    many = _LICENSES.search(text)
    if many:
        licenses = _ITEM.findall(many.group(1))
    else:
        one = _LICENSE.search(text)
        if one:
            licenses = [one.group(1)]
    return name.group(1).strip(), version.group(1).strip(), tuple(licenses)


@register("collector")
class GemCollector(Collector):
    """Gems installed by RubyGems or Bundler (default gems included)."""

    name = "gem"
    version = 1
    ecosystems = ("gem",)

    def required(self, info: FileInfo) -> bool:
        """``…/specifications/NAME.gemspec`` and ``…/specifications/default/NAME.gemspec``."""
        if not info.path.endswith(".gemspec"):
            return False
        parts = info.path.split("/")
        return ((len(parts) >= 2 and parts[-2] == "specifications")
                or (len(parts) >= 3 and parts[-2] == "default" and parts[-3] == "specifications"))

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """One gem per specification file."""
        if len(content) > _MAX_BYTES:
            return self.skipped(info, f"gem: gemspec is {len(content)} bytes, too large")
        name, version, licenses = parse_gemspec(content.decode("utf-8", errors="replace"))
        purl = PackageURL(type="gem", name=name, version=version).to_string()
        return self.packages([Package(type="gem", name=name, version=version, licenses=licenses,
                                      locations=self.location(info), purl=purl)])
