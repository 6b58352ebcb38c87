"""Java archives (jar, war, ear, par, sar, jpi, hpi), nested ones included.

Identification follows Trivy's jar parser: every ``META-INF/maven/<g>/<a>/pom.properties`` is a
package; when none of them describes the archive itself (artifactId and version equal to those in
the file name), the archive is named from ``META-INF/MANIFEST.MF``, else from its file name
(``name-1.2.3.jar``, no groupId). Archives inside archives (``WEB-INF/lib/*.jar``,
``BOOT-INF/lib/*.jar``, …) are opened recursively up to ``Limits.max_nested_archive_depth``
levels, and everything read from one outer file counts against one uncompressed-bytes budget so
a zip bomb cannot blow up memory. Nested packages are located at ``/outer.war:WEB-INF/lib/x.jar``.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from packageurl import PackageURL

from containerguard.collectors.base import Collector, FileInfo
from containerguard.config import Limits
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Location, Package, Skipped
from containerguard.registry import register

ARCHIVE_EXTENSIONS = (".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi")
_BUDGET = 512 * 1024 * 1024
"""Most uncompressed bytes read out of one outer archive, nested archives included."""
_MAX_SMALL_ENTRY = 1024 * 1024
"""pom.properties and MANIFEST.MF are tiny; a bigger one is hostile."""
# Greedy artifact: the version starts at the last "-<digit>" ("log4j-1.2-api-2.17.1" -> 2.17.1).
_FILE_NAME = re.compile(r"^(?P<artifact>.*[^-])-(?P<version>\d[^/]*)$")


@dataclass(frozen=True)
class _Gav:
    group: str
    artifact: str
    version: str


class ZipBombError(CollectError):
    """An archive would expand past the uncompressed budget."""


class _Budget:
    """Uncompressed bytes still allowed for one outer archive."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, size: int, what: str) -> None:
        if size > self.left:
            raise ZipBombError(f"{what}: archive expands past {_BUDGET} bytes; looks like a zip bomb")
        self.left -= size


def parse_properties(text: str) -> dict[str, str]:
    """A Java .properties file, the simple way pom.properties is written (key=value lines)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def parse_manifest(text: str) -> dict[str, str]:
    """MANIFEST.MF main section, continuation lines (leading space) joined."""
    out: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        if not raw.strip():
            break  # the main section ends at the first blank line
        if raw.startswith(" ") and last:
            out[last] += raw[1:]
            continue
        key, sep, value = raw.partition(":")
        if sep:
            last = key.strip()
            out[last] = value.strip()
    return out


def gav_from_manifest(attrs: dict[str, str]) -> _Gav | None:
    """groupId/artifactId/version from manifest attributes, Trivy's precedence; None if incomplete."""
    group = attrs.get("Implementation-Vendor-Id", "")
    if not group and attrs.get("Bundle-SymbolicName"):
        symbolic = attrs["Bundle-SymbolicName"].split(";", 1)[0].strip()
        # "com.fasterxml.jackson.core.jackson-databind" -> "com.fasterxml.jackson.core"
        group = symbolic.rsplit(".", 1)[0] if "." in symbolic else symbolic
    group = group or attrs.get("Implementation-Vendor", "") or attrs.get("Specification-Vendor", "")
    artifact = (attrs.get("Implementation-Title") or attrs.get("Specification-Title")
                or attrs.get("Bundle-Name") or "")
    version = (attrs.get("Implementation-Version") or attrs.get("Specification-Version")
               or attrs.get("Bundle-Version") or "")
    if not (group and artifact and version) or " " in group or " " in artifact or " " in version:
        return None
    return _Gav(group, artifact, version)


def gav_from_file_name(path: str) -> _Gav | None:
    """``lib/commons-io-2.11.0.jar`` -> (``""``, ``commons-io``, ``2.11.0``)."""
    base = path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    stem = base.rsplit(".", 1)[0]
    match = _FILE_NAME.match(stem)
    return _Gav("", match.group("artifact"), match.group("version")) if match else None


def maven_package(gav: _Gav, location: Location) -> Package:
    """A maven package (namespace groupId) with its purl."""
    purl = PackageURL(type="maven", namespace=gav.group or None, name=gav.artifact,
                      version=gav.version or None)
    return Package(type="maven", name=gav.artifact, namespace=gav.group, version=gav.version,
                   locations=(location,), purl=purl.to_string())


def _read(archive: zipfile.ZipFile, item: zipfile.ZipInfo, budget: _Budget, where: str,
          limit: int | None = None) -> bytes:
    if limit is not None and item.file_size > limit:
        raise CollectError(f"{where}: {item.filename} is {item.file_size} bytes, too large")
    budget.take(item.file_size, where)
    # zipfile never returns more than the declared file_size, so the budget is a real bound.
    return archive.read(item)


def scan_archive(content: bytes, where: str, layer: str, depth: int, max_depth: int,
                 budget: _Budget) -> tuple[list[Package], list[Skipped]]:
    """Packages of one archive and of the archives inside it (``depth`` 0 is the outer file)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        items = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CollectError(f"{where}: not a readable zip archive ({exc})") from exc
    location = Location(path=where, layer_digest=layer)
    packages: list[Package] = []
    skipped: list[Skipped] = []
    poms: list[_Gav] = []
    manifest: dict[str, str] = {}
    nested: list[zipfile.ZipInfo] = []
    with archive:
        for item in items:
            name = item.filename
            if item.is_dir():
                continue
            try:
                if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                    props = parse_properties(_read(archive, item, budget, where, _MAX_SMALL_ENTRY)
                                             .decode("utf-8", errors="replace"))
                    gav = _Gav(props.get("groupId", ""), props.get("artifactId", ""),
                               props.get("version", ""))
                    if gav.artifact and gav.version and gav not in poms:
                        poms.append(gav)
                elif name.upper() == "META-INF/MANIFEST.MF":
                    manifest = parse_manifest(_read(archive, item, budget, where, _MAX_SMALL_ENTRY)
                                              .decode("utf-8", errors="replace"))
                elif name.lower().endswith(ARCHIVE_EXTENSIONS):
                    nested.append(item)
            except ZipBombError:
                raise
            except CollectError as exc:
                skipped.append(Skipped(f"{where}:{name}", f"java: {exc}", layer))
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                # One damaged entry (bad CRC, unknown compression) must not hide the others.
                skipped.append(Skipped(f"{where}:{name}", f"java: unreadable entry ({exc})", layer))
        packages.extend(maven_package(g, location) for g in poms)
        named = gav_from_file_name(where)
        if not any(named and g.artifact == named.artifact and g.version == named.version
                   for g in poms):
            own = gav_from_manifest(manifest) or named
            if own is not None and own not in poms:
                packages.append(maven_package(own, location))
        for item in nested:
            inner_where = f"{where}:{item.filename}"
            if depth >= max_depth:
                skipped.append(Skipped(inner_where, f"java: nested deeper than {max_depth} archives",
                                       layer))
                continue
            try:
                inner = _read(archive, item, budget, where)
                found, inner_skipped = scan_archive(inner, inner_where, layer, depth + 1, max_depth,
                                                    budget)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                skipped.append(Skipped(inner_where, f"java: unreadable entry ({exc})", layer))
                continue
            except ZipBombError:
                raise
            except CollectError as exc:
                skipped.append(Skipped(inner_where, f"java: {exc}", layer))
                continue
            packages.extend(found)
            skipped.extend(inner_skipped)
    return packages, skipped


@register("collector")
class JavaCollector(Collector):
    """Maven artifacts in Java archives."""

    name = "java"
    version = 1
    ecosystems = ("maven",)

    def required(self, info: FileInfo) -> bool:
        """Files named like Java archives."""
        return info.path.lower().endswith(ARCHIVE_EXTENSIONS)

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Every artifact in the archive and the archives it nests."""
        packages, skipped = scan_archive(content, "/" + info.path, info.layer_digest, depth=0,
                                         max_depth=Limits().max_nested_archive_depth,
                                         budget=_Budget(_BUDGET))
        return Collected(packages=tuple(packages), skipped=tuple(skipped))
