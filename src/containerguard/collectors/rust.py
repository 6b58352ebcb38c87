"""Rust binaries built with cargo-auditable: the crates listed in their ``.dep-v0`` ELF section.

The section holds zlib-compressed JSON: ``{"packages": [{"name", "version", "source", "kind",
"dependencies", "root"}]}``. As Trivy does, build-time crates (``kind: "build"``) are left out:
they are not in the binary. The root crate (the binary itself) is kept.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.collectors.go_binary import plausible_binary_path
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Package
from containerguard.registry import register

SECTION = ".dep-v0"
_MIN_SIZE = 4 * 1024
_MAX_JSON = 8 * 1024 * 1024
"""cargo-auditable caps its own JSON well below this; more is a decompression bomb."""


def read_section(content: bytes) -> bytes | None:
    """The raw ``.dep-v0`` section of an ELF file, or None if it has none."""
    # Section names live in .shstrtab as plain bytes: a C-speed search spares a full ELF parse of
    # every executable that cannot have the section.
    if SECTION.encode() not in content:
        return None
    # pyelftools is imported on the first candidate binary, not at start-up.
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(content))
        section = elf.get_section_by_name(SECTION)
        if section is None:
            return None
        data = section.data()
    except (ELFError, struct.error, ValueError, IndexError) as exc:
        raise CollectError(f"cannot read ELF sections ({exc})") from exc
    if not isinstance(data, bytes):
        raise CollectError(f"{SECTION} section is unreadable")
    return data


def decode_audit_data(raw: bytes) -> list[dict[str, Any]]:
    """The package list of a compressed cargo-auditable blob."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(raw, _MAX_JSON)
    except zlib.error as exc:
        raise CollectError(f"{SECTION} is not zlib data ({exc})") from exc
    if inflater.unconsumed_tail:
        raise CollectError(f"{SECTION} inflates past {_MAX_JSON} bytes")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CollectError(f"{SECTION} is not JSON ({exc})") from exc
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, list):
        raise CollectError(f"{SECTION} has no packages list")
    return [p for p in packages if isinstance(p, dict)]


@register("collector")
class CargoAuditableCollector(Collector):
    """Crates compiled into Rust executables (cargo-auditable metadata)."""

    name = "cargo-auditable"
    version = 2
    ecosystems = ("cargo",)

    def required(self, info: FileInfo) -> bool:
        """Executables that may be ELF programs."""
        return info.executable and info.size >= _MIN_SIZE and plausible_binary_path(info.path)

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Runtime crates of one binary; nothing for binaries without audit data."""
        if not content.startswith(b"\x7fELF"):
            return Collected()
        raw = read_section(content)
        if raw is None:
            return Collected()
        packages: list[Package] = []
        seen: set[tuple[str, str]] = set()
        for entry in decode_audit_data(raw):
            name, version = entry.get("name"), entry.get("version")
            if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
                continue
            if entry.get("kind", "runtime") != "runtime" or (name, version) in seen:
                continue
            seen.add((name, version))
            purl = PackageURL(type="cargo", name=name, version=version).to_string()
            packages.append(Package(type="cargo", name=name, version=version,
                                    locations=self.location(info), purl=purl))
        return self.packages(packages)
