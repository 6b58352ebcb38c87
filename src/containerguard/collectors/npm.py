"""Installed npm packages: ``node_modules/<name>/package.json`` and
``node_modules/@scope/<name>/package.json``.

Like Trivy's image scans, only what is installed counts: lockfiles are the job of the separate
``npm-lock`` collector (see :mod:`containerguard.collectors.npm_lock`), which a pipeline may leave
out of image scans.
"""

from __future__ import annotations

import json
from typing import Any

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Package
from containerguard.registry import register

_MAX_BYTES = 4 * 1024 * 1024


def split_name(full: str) -> tuple[str, str]:
    """``@scope/name`` -> (``@scope``, ``name``); ``name`` -> (``""``, ``name``)."""
    if full.startswith("@") and "/" in full:
        scope, _, name = full.partition("/")
        return scope, name
    return "", full


def npm_package(full_name: str, version: str, licenses: tuple[str, ...] = (), *,
                dev: bool = False, locations: tuple[Any, ...] = ()) -> Package:
    """An npm :class:`Package` with its purl (scope as the purl namespace)."""
    namespace, name = split_name(full_name)
    purl = PackageURL(type="npm", namespace=namespace or None, name=name, version=version or None)
    return Package(type="npm", name=name, namespace=namespace, version=version, licenses=licenses,
                   dev=dev, locations=locations, purl=purl.to_string())


def licenses_of(manifest: dict[str, Any]) -> tuple[str, ...]:
    """Licences from ``license`` (string or legacy ``{type}``) or the legacy ``licenses`` list."""
    found: list[str] = []
    raw = manifest.get("license")
    values: list[Any] = [raw] if raw is not None else []
    legacy = manifest.get("licenses")
    if isinstance(legacy, list):
        values.extend(legacy)
    for value in values:
        if isinstance(value, dict):
            value = value.get("type")
        if isinstance(value, str) and value.strip() and value.strip() not in found:
            found.append(value.strip())
    return tuple(found)


def is_installed_manifest(path: str) -> bool:
    """Whether ``path`` is the package.json of a package directory directly under node_modules."""
    parts = path.split("/")
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules":
        return not parts[-2].startswith("@") and not parts[-2].startswith(".")
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


@register("collector")
class NpmCollector(Collector):
    """npm packages installed in node_modules trees (global or per project)."""

    name = "npm"
    version = 1
    ecosystems = ("npm",)

    def required(self, info: FileInfo) -> bool:
        """The package.json of each installed package."""
        return info.path.endswith("/package.json") and is_installed_manifest(info.path)

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """One package per manifest; a manifest without name or version is not a package."""
        if len(content) > _MAX_BYTES:
            return self.skipped(info, f"npm: package.json is {len(content)} bytes, too large")
        try:
            manifest = json.loads(content)
        except ValueError as exc:
            raise CollectError(f"package.json is not JSON: {exc}") from exc
        if not isinstance(manifest, dict):
            raise CollectError("package.json is not a JSON object")
        name, version = manifest.get("name"), manifest.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            # Packages ship stub manifests (e.g. only {"type": "module"}); nothing to inventory.
            return Collected()
        return self.packages([npm_package(name, version, licenses_of(manifest),
                                          locations=self.location(info))])
