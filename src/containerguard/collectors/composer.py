"""PHP packages installed by Composer: ``vendor/composer/installed.json``.

Composer 1 writes a JSON list of packages, Composer 2 ``{"packages": [...], "dev": …,
"dev-package-names": [...]}``; the latter marks development-only packages, which we carry as
``dev``.
"""

from __future__ import annotations

import json
from typing import Any

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Package
from containerguard.registry import register

_MAX_BYTES = 64 * 1024 * 1024


def _licenses(entry: dict[str, Any]) -> tuple[str, ...]:
    raw = entry.get("license")
    values = raw if isinstance(raw, list) else [raw]
    return tuple(v.strip() for v in values if isinstance(v, str) and v.strip())


@register("collector")
class ComposerCollector(Collector):
    """Composer's record of what it installed into vendor/."""

    name = "composer"
    version = 1
    ecosystems = ("composer",)

    def required(self, info: FileInfo) -> bool:
        """``…vendor/composer/installed.json``."""
        return info.path == "vendor/composer/installed.json" or info.path.endswith(
            "/vendor/composer/installed.json")

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """One package per installed entry with a ``vendor/name`` and a version."""
        if len(content) > _MAX_BYTES:
            return self.skipped(info, f"composer: installed.json is {len(content)} bytes, too large")
        try:
            data = json.loads(content)
        except ValueError as exc:
            raise CollectError(f"installed.json is not JSON: {exc}") from exc
        dev_names: set[str] = set()
        if isinstance(data, dict):
            names = data.get("dev-package-names")
            dev_names = {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()
            data = data.get("packages")
        if not isinstance(data, list):
            raise CollectError("installed.json has no package list")
        packages: list[Package] = []
        for entry in data:
            if not isinstance(entry, dict):
                continue
            full, version = entry.get("name"), entry.get("version")
            if not isinstance(full, str) or not isinstance(version, str) or "/" not in full or not version:
                continue
            vendor, _, name = full.partition("/")
            purl = PackageURL(type="composer", namespace=vendor, name=name, version=version)
            packages.append(Package(
                type="composer", namespace=vendor, name=name, version=version,
                licenses=_licenses(entry), dev=full in dev_names, locations=self.location(info),
                purl=purl.to_string()))
        return self.packages(packages)
