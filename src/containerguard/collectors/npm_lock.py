"""npm project lockfiles: ``package-lock.json`` and ``npm-shrinkwrap.json`` (v1, v2, v3),
``yarn.lock`` (v1 and Berry) and ``pnpm-lock.yaml`` (v5, v6, v9).

Rule against double counting: the ``npm`` collector reports what is *installed* (node_modules);
this one reports what a *project* declares. It never reads lockfiles inside node_modules (npm's
hidden ``node_modules/.package-lock.json`` and the lockfiles that packages ship are not the
project's). It is tagged ``lockfile`` so an image scan may leave it out, as Trivy does; when both
run, the same package from both sources carries the same purl, so an SBOM builder merging by purl
(keeping ``dev`` only if every source says dev) counts it once. Lockfile-only facts are kept:
``dev`` marks packages declared only as development dependencies (package-lock, pnpm v5/v6).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from containerguard.collectors.base import Collector, FileInfo
from containerguard.collectors.npm import npm_package
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location, Package
from containerguard.registry import register

_MAX_BYTES = 64 * 1024 * 1024
_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
_NM = "node_modules/"


def _registry_version(version: Any) -> str | None:
    """A registry version, or None for git/file/link specs that name no registry release."""
    if not isinstance(version, str) or not version:
        return None
    if ":" in version or "/" in version:
        return None
    return version


def parse_package_lock(data: Any) -> list[tuple[str, str, bool]]:
    """(name, version, dev) from a package-lock.json (``packages`` for v2/v3, ``dependencies`` for v1)."""
    if not isinstance(data, dict):
        raise CollectError("package-lock.json is not a JSON object")
    out: list[tuple[str, str, bool]] = []
    packages = data.get("packages")
    if isinstance(packages, dict) and packages:
        for key, entry in packages.items():
            # "" is the project itself; keys outside node_modules are workspace folders, and
            # link entries point at them: none of these are registry packages.
            if not isinstance(key, str) or _NM not in key or not isinstance(entry, dict):
                continue
            if entry.get("link"):
                continue
            name = entry.get("name") or key.rsplit(_NM, 1)[1]
            version = _registry_version(entry.get("version"))
            if isinstance(name, str) and version:
                out.append((name, version, bool(entry.get("dev"))))
        return out
    dependencies = data.get("dependencies")
    if isinstance(dependencies, dict):
        _walk_v1(dependencies, out, depth=0)
    return out


def _walk_v1(deps: dict[str, Any], out: list[tuple[str, str, bool]], depth: int) -> None:
    if depth > 64:  # a hostile file could nest without end
        raise CollectError("package-lock.json dependencies nest too deep")
    for name, entry in deps.items():
        if not isinstance(entry, dict):
            continue
        raw = entry.get("version")
        if isinstance(raw, str) and raw.startswith("npm:"):
            # An alias: "npm:real-name@1.2.3".
            alias_name, _, raw = raw[4:].rpartition("@")
            name = alias_name or name
        version = _registry_version(raw)
        if version:
            out.append((name, version, bool(entry.get("dev"))))
        nested = entry.get("dependencies")
        if isinstance(nested, dict):
            _walk_v1(nested, out, depth + 1)


def _spec_name(spec: str) -> str:
    """``@scope/name@^1`` or ``name@npm:^1`` -> the package name."""
    spec = spec.strip().strip('"').strip("'")
    at = spec.find("@", 1)
    return spec if at < 0 else spec[:at]


def parse_yarn_lock(text: str) -> list[tuple[str, str, bool]]:
    """(name, version, False) from yarn.lock v1 or Berry (yarn.lock has no dev information)."""
    out: list[tuple[str, str, bool]] = []
    key: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            key = line.rstrip().rstrip(":") if line.rstrip().endswith(":") else None
            if key is not None and (key == "__metadata" or "@workspace:" in key or "@link:" in key
                                    or "@file:" in key or "@portal:" in key):
                key = None
            continue
        if key is None or line.startswith("    "):
            continue
        stripped = line.strip()
        match = re.match(r'version:?\s+"?([^"\s]+)"?$', stripped)
        if match:
            name = _spec_name(key.split(",")[0])
            version = _registry_version(match.group(1))
            if name and version:
                out.append((name, version, False))
            key = None
    return out


_PNPM_KEY = re.compile(r"^  (['\"]?)/?(?P<key>[^'\"]+)\1:\s*$")
_PNPM_VERSION = re.compile(r"^lockfileVersion:\s*['\"]?(\d+)")


def _pnpm_name_version(key: str, major: int) -> tuple[str, str] | None:
    """``name/1.0.0_peer@2`` (v5) or ``@scope/name@1.0.0(peer@2)`` (v6, v9) -> (name, version)."""
    if major < 6:
        name, _, version = key.rpartition("/")
        return (name, version.split("_", 1)[0]) if name else None
    key = key.split("(", 1)[0]
    at = key.find("@", 1)
    return (key[:at], key[at + 1:]) if at > 0 else None


def parse_pnpm_lock(text: str) -> list[tuple[str, str, bool]]:
    """(name, version, dev) from the ``packages:`` map of pnpm-lock.yaml.

    A line scan, not a YAML load: the map's layout is fixed (two-space keys, four-space fields),
    and this keeps hostile YAML (alias bombs) out of the picture. v9 moved ``dev`` out of this
    map, so v9 packages are never marked dev.
    """
    found: list[tuple[str, str]] = []
    dev: set[int] = set()
    major = 6
    in_packages = False
    current = -1
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            version_match = _PNPM_VERSION.match(line)
            if version_match:
                major = int(version_match.group(1))
            in_packages = line.rstrip() == "packages:"
            current = -1
            continue
        if not in_packages:
            continue
        match = _PNPM_KEY.match(line)
        if match:
            parsed = _pnpm_name_version(match.group("key"), major)
            version = _registry_version(parsed[1]) if parsed else None
            current = -1
            if parsed and version:
                found.append((parsed[0], version))
                current = len(found) - 1
            continue
        if current >= 0 and line.startswith("    ") and line.strip() == "dev: true":
            dev.add(current)
    return [(name, version, i in dev) for i, (name, version) in enumerate(found)]


@register("collector")
class NpmLockCollector(Collector):
    """Packages declared by npm/yarn/pnpm lockfiles of projects (outside node_modules)."""

    name = "npm-lock"
    version = 1
    ecosystems = ("npm",)
    tags: ClassVar[tuple[str, ...]] = ("lockfile",)
    """Lockfile collectors describe projects, not installs: image scans may disable them."""

    def required(self, info: FileInfo) -> bool:
        """A lockfile that is not under any node_modules directory."""
        base = info.path.rsplit("/", 1)[-1]
        if base not in _LOCKFILES:
            return False
        return not info.path.startswith(_NM) and "/" + _NM not in info.path

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Every registry package the lockfile pins, once per (name, version)."""
        if len(content) > _MAX_BYTES:
            return self.skipped(info, f"npm-lock: lockfile is {len(content)} bytes, too large")
        base = info.path.rsplit("/", 1)[-1]
        if base in ("package-lock.json", "npm-shrinkwrap.json"):
            try:
                data = json.loads(content)
            except ValueError as exc:
                raise CollectError(f"package-lock.json is not JSON: {exc}") from exc
            entries = parse_package_lock(data)
        elif base == "yarn.lock":
            entries = parse_yarn_lock(content.decode("utf-8", errors="replace"))
        else:
            entries = parse_pnpm_lock(content.decode("utf-8", errors="replace"))
        return self.packages(_merge(entries, self.location(info)))


def _merge(entries: list[tuple[str, str, bool]], locations: tuple[Location, ...]) -> list[Package]:
    """One package per (name, version); dev only when every occurrence is dev."""
    dev_by_key: dict[tuple[str, str], bool] = {}
    for name, version, dev in entries:
        key = (name, version)
        dev_by_key[key] = dev_by_key.get(key, True) and dev
    return [npm_package(name, version, dev=dev, locations=locations)
            for (name, version), dev in sorted(dev_by_key.items())]
