"""Alpine and Wolfi packages from apk's installed database (``lib/apk/db/installed``).

The file is a list of blank-line separated records of ``X:value`` lines, one letter per field:
P name, V version, A arch, o origin (the source package), L license; F/R/a/Z describe files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location, Package
from containerguard.registry import register

INSTALLED = "lib/apk/db/installed"
_WANTED = frozenset("PVAoL")
_SPDX_OPERATOR = re.compile(r"\b(AND|OR|WITH)\b|[()]")


def iter_records(text: str) -> Iterator[dict[str, str]]:
    """Yield each record as ``{field letter: value}`` for the fields we keep."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
                fields = {}
            continue
        if len(line) < 2 or line[1] != ":":
            continue
        if line[0] in _WANTED:
            fields[line[0]] = line[2:].strip()
    if fields:
        yield fields


def split_licenses(value: str) -> tuple[str, ...]:
    """An SPDX expression stays whole; an old space-separated list ("GPL2 MIT") is split."""
    if not value:
        return ()
    if _SPDX_OPERATOR.search(value):
        return (value,)
    return tuple(value.split())


def to_package(fields: dict[str, str], locations: tuple[Location, ...]) -> Package | None:
    """A Package from one record, or None without a name or version."""
    name, version = fields.get("P", ""), fields.get("V", "")
    if not name or not version:
        return None
    return Package(
        type="apk",
        name=name,
        version=version,
        arch=fields.get("A", ""),
        # Subpackages share their origin's version: apk has no separate source version.
        source_name=fields.get("o", "") or name,
        source_version=version,
        licenses=split_licenses(fields.get("L", "")),
        locations=locations,
    )


@register("collector")
class ApkCollector(Collector):
    """Installed packages from ``lib/apk/db/installed`` (Alpine, Wolfi, Chainguard)."""

    name = "apk"
    version = 1
    ecosystems = ("apk",)

    def required(self, info: FileInfo) -> bool:
        """Only apk's installed database."""
        return info.path == INSTALLED

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Parse the installed database into packages."""
        text = content.decode("utf-8", errors="replace")
        locations = self.location(info)
        packages: list[Package] = []
        records = 0
        for fields in iter_records(text):
            records += 1
            package = to_package(fields, locations)
            if package is not None:
                packages.append(package)
        if records == 0 and text.strip():
            raise CollectError("no apk records found")
        return self.packages(packages)
