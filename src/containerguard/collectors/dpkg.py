"""Debian packages from dpkg's status database (and distroless ``status.d/`` files).

Parsed by hand rather than with python-debian's deb822: we need only a few single-line fields,
and on a real 800-package status file the hand parser is about five times faster.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location, Package
from containerguard.registry import register

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"

# dpkg's third Status word. "triggers-*" packages are unpacked and configured, only waiting for
# another package's trigger, so their files are on disk like any installed package's.
_INSTALLED_STATES = frozenset({"installed", "triggers-pending", "triggers-awaited"})
_SOURCE = re.compile(r"^(?P<name>\S+)(?:\s+\((?P<version>[^)\s]+)\))?\s*$")
_WANTED = frozenset({"package", "version", "status", "source", "architecture"})


def iter_paragraphs(text: str) -> Iterator[dict[str, str]]:
    """Yield each deb822 paragraph as ``{lower-case field: first-line value}``.

    Continuation lines are skipped: none of the fields we keep span lines.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
                fields = {}
            continue
        if line[0] in " \t" or line[0] == "#":
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in _WANTED:
            fields[key] = value.strip()
    if fields:
        yield fields


def is_installed(fields: dict[str, str], *, default: bool) -> bool:
    """Whether a paragraph's Status says the package is on disk (``default`` if no Status)."""
    status = fields.get("status")
    if status is None:
        return default
    words = status.split()
    return len(words) == 3 and words[2] in _INSTALLED_STATES


def to_package(fields: dict[str, str], locations: tuple[Location, ...]) -> Package | None:
    """A Package from one paragraph, or None if it lacks a name or version."""
    name = fields.get("package", "")
    version = fields.get("version", "")
    if not name or not version:
        return None
    source_name, source_version = name, version
    if source := fields.get("source"):
        match = _SOURCE.match(source)
        if match:
            source_name = match.group("name")
            source_version = match.group("version") or version
    return Package(
        type="deb",
        name=name,
        # dpkg writes the epoch inside the version ("1:2.3-4"); it stays there, as in deb purls.
        version=version,
        arch=fields.get("architecture", ""),
        source_name=source_name,
        source_version=source_version,
        locations=locations,
    )


@register("collector")
class DpkgCollector(Collector):
    """Installed packages from ``var/lib/dpkg/status`` and ``var/lib/dpkg/status.d/*``."""

    name = "dpkg"
    version = 1
    ecosystems = ("deb",)

    def required(self, info: FileInfo) -> bool:
        """The status file, or a distroless per-package file (not its ``.md5sums``)."""
        if info.path == STATUS:
            return True
        if not info.path.startswith(STATUS_D):
            return False
        leaf = info.path[len(STATUS_D):]
        return bool(leaf) and "/" not in leaf and not leaf.endswith(".md5sums")

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Parse one status file into its installed packages."""
        text = content.decode("utf-8", errors="replace")
        # status.d files are written by the image builder for installed packages only and
        # usually carry no Status field.
        default_installed = info.path != STATUS
        locations = self.location(info)
        packages: list[Package] = []
        paragraphs = 0
        for fields in iter_paragraphs(text):
            paragraphs += 1
            if not is_installed(fields, default=default_installed):
                continue
            package = to_package(fields, locations)
            if package is not None:
                packages.append(package)
        if paragraphs == 0 and text.strip():
            raise CollectError("no dpkg status paragraphs found")
        return self.packages(packages)
