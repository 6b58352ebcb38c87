"""RPM packages from the rpm database, in any of its three formats.

BerkeleyDB ``Packages`` (RHEL/CentOS 7-8, Amazon Linux 2), ndb ``Packages.db`` (SUSE) and
``rpmdb.sqlite`` (RHEL 9, Fedora, Amazon Linux 2023), under ``var/lib/rpm`` or the newer
``usr/lib/sysimage/rpm``. The format is told by the file's magic, not its name.

An sqlite database's uncheckpointed ``-wal`` file is a separate file and is not merged; images
built by dnf/microdnf close the database cleanly, which checkpoints it.
"""

from __future__ import annotations

from containerguard.collectors.base import Collector, FileInfo
from containerguard.collectors.rpmdb import Blobs, RpmDbError
from containerguard.collectors.rpmdb.bdb import byte_order, read_bdb
from containerguard.collectors.rpmdb.header import parse_header, parse_source_rpm
from containerguard.collectors.rpmdb.ndb import is_ndb, read_ndb
from containerguard.collectors.rpmdb.sqlite import is_sqlite, read_sqlite
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location, Package, Skipped
from containerguard.registry import register

_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
_FILES = ("Packages", "Packages.db", "rpmdb.sqlite")
PATHS = frozenset(d + f for d in _DIRS for f in _FILES)

_PUBKEY = "gpg-pubkey"
"""rpm stores imported signing keys as pseudo-packages; they are not software."""


def read_database(data: bytes) -> Blobs:
    """The header blobs of an rpm database of any supported format."""
    if is_sqlite(data):
        return read_sqlite(data)
    if is_ndb(data):
        return read_ndb(data)
    if byte_order(data) is not None:
        return read_bdb(data)
    raise RpmDbError("unknown rpm database format")


def to_package(blob: bytes, locations: tuple[Location, ...]) -> Package | None:
    """A Package from one header blob (None for gpg-pubkey entries)."""
    header = parse_header(blob)
    if header.name == _PUBKEY:
        return None
    source_name, source_version = parse_source_rpm(header.sourcerpm)
    return Package(
        type="rpm",
        name=header.name,
        version=header.version,
        release=header.release,
        epoch=header.epoch,
        arch=header.arch,
        source_name=source_name,
        source_version=source_version,
        licenses=(header.license,) if header.license else (),
        locations=locations,
    )


@register("collector")
class RpmCollector(Collector):
    """Installed packages from the rpm database (bdb, ndb or sqlite)."""

    name = "rpm"
    version = 1
    ecosystems = ("rpm",)

    def required(self, info: FileInfo) -> bool:
        """Only the rpm database files in their two standard directories."""
        return info.path in PATHS

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Read every package header in the database."""
        try:
            found = read_database(content)
        except RpmDbError as exc:
            raise CollectError(str(exc)) from exc
        locations = self.location(info)
        packages: list[Package] = []
        problems = list(found.problems)
        for blob in found.blobs:
            try:
                package = to_package(blob, locations)
            except RpmDbError as exc:
                problems.append(f"bad header: {exc}")
                continue
            if package is not None:
                packages.append(package)
        skipped: tuple[Skipped, ...] = ()
        if problems:
            reason = f"rpm: {len(problems)} unreadable record(s): " + "; ".join(problems[:5])
            skipped = (Skipped("/" + info.path, reason, info.layer_digest),)
        return Collected(packages=tuple(packages), skipped=skipped)
