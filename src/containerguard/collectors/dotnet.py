"""NuGet packages of .NET applications: the ``*.deps.json`` file next to each app.

``libraries`` maps ``Name/Version`` to ``{"type": "package" | "project" | "reference", …}``; only
``package`` entries come from NuGet (projects are the app itself, references the framework).
"""

from __future__ import annotations

import json

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Package
from containerguard.registry import register

_MAX_BYTES = 64 * 1024 * 1024


@register("collector")
class DotnetDepsCollector(Collector):
    """NuGet packages listed in .NET dependency manifests."""

    name = "dotnet-deps"
    version = 1
    ecosystems = ("nuget",)

    def required(self, info: FileInfo) -> bool:
        """``*.deps.json``."""
        return info.path.endswith(".deps.json")

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """One package per NuGet library."""
        if len(content) > _MAX_BYTES:
            return self.skipped(info, f"dotnet-deps: file is {len(content)} bytes, too large")
        try:
            data = json.loads(content.decode("utf-8-sig", errors="replace"))
        except ValueError as exc:
            raise CollectError(f"deps.json is not JSON: {exc}") from exc
        libraries = data.get("libraries") if isinstance(data, dict) else None
        if not isinstance(libraries, dict):
            raise CollectError("deps.json has no libraries map")
        packages: list[Package] = []
        for key, entry in libraries.items():
            if not isinstance(entry, dict) or entry.get("type") != "package":
                continue
            name, sep, version = key.partition("/")
            if not sep or not name or not version:
                continue
            purl = PackageURL(type="nuget", name=name, version=version).to_string()
            packages.append(Package(type="nuget", name=name, version=version,
                                    locations=self.location(info), purl=purl))
        return self.packages(packages)
