"""CycloneDX 1.6 JSON, written with cyclonedx-python-lib (in :mod:`._cyclonedx_bom`, imported on first write);
CycloneDX 1.2-1.7 JSON read back.

Shape (as Trivy's, so tools that read Trivy's SBOMs read ours):

- ``metadata.component``: the image, a ``container`` named as the user gave it, version = the
  manifest digest, purl ``pkg:oci/NAME@DIGEST?arch=…&repository_url=HOST/PATH`` when a repository
  is known; ``metadata.tools``: containerguard.
- one ``operating-system`` component: name = distro id, version = VERSION_ID.
- one ``library`` component per package: bom-ref = purl (``#2``, ``#3``… appended to repeats),
  version as the ecosystem writes it (rpm: ``[epoch:]version-release``), ``group`` = maven groupId
  or npm scope (name = the rest; golang: name = the module path), licenses, and the fields CycloneDX
  has no slot for as ``containerguard:package:*`` properties (see :mod:`._shared`).
- dependencies: the OS depends on the OS packages, the image on the OS and the other packages.

Reading takes our documents back field for field, and other tools' (Trivy's ``aquasecurity:trivy:``
properties, anything with purls) by purl; components nested in components are read too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from containerguard.errors import SbomError
from containerguard.models.artifact import ImageMetadata
from containerguard.models.sbom import Distro, Location, Package, Sbom, Skipped
from containerguard.registry import register
from containerguard.sbom.formats import _shared as sh
from containerguard.sbom.formats.base import SbomFormat

TRIVY = "aquasecurity:trivy:"
_PACKAGE_TYPES = frozenset({"library", "framework", "application", "firmware", "device-driver"})


@register("sbom-format", "cyclonedx")
class CycloneDx(SbomFormat):
    """CycloneDX JSON (writes 1.6)."""

    name = "cyclonedx"

    def write(self, sbom: Sbom) -> str:
        """The document, validated by the library's model checks, as indented JSON."""
        from containerguard.sbom.formats._cyclonedx_bom import render

        return render(sbom)

    def detect(self, document: dict[str, Any]) -> bool:
        """CycloneDX JSON says so in ``bomFormat``."""
        return document.get("bomFormat") == "CycloneDX"

    def read(self, document: dict[str, Any]) -> Sbom:
        """Rebuild the inventory; :class:`SbomError` when the document is not CycloneDX JSON."""
        if not self.detect(document):
            raise SbomError("not a CycloneDX document (bomFormat is not 'CycloneDX')")
        spec = document.get("specVersion")
        if not isinstance(spec, str) or not spec.startswith("1."):
            raise SbomError(f"unsupported CycloneDX specVersion {spec!r}")
        try:
            return _read(document)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SbomError(f"malformed CycloneDX document: {exc!r}") from exc


# --- reading --------------------------------------------------------------------------------------

def _read(doc: dict[str, Any]) -> Sbom:
    metadata = sh.obj(doc.get("metadata"))
    top = sh.obj(metadata.get("component"))
    components = list(_walk(sh.array(doc.get("components"))))
    distro: Distro | None = None
    packages: list[Package] = []
    skipped: list[Skipped] = []
    for c in components:
        name = sh.text(c, "name")  # required by every CycloneDX version
        ctype = c.get("type", "library")
        props = _properties(c)
        if ctype == "operating-system":
            if distro is None:
                distro = sh.distro_from(name, str(c.get("version") or ""), props)
            continue
        if sh.is_ours(props):
            packages.append(sh.own_package(props, name, str(c.get("version") or ""),
                                           str(c.get("purl") or ""), _read_licenses(c)))
            continue
        if ctype not in _PACKAGE_TYPES:
            continue
        package = _foreign(c, props)
        if package is not None:
            packages.append(package)
        else:
            skipped.append(Skipped(name,
                                   f"CycloneDX component {c.get('bom-ref')!r} has no usable purl"))
    packages.sort(key=sh.inventory_order)
    return Sbom(artifact=_image(top), distro=distro, packages=tuple(packages), skipped=tuple(skipped),
                tool=_tool(metadata))


def _walk(components: list[Any]) -> Iterator[dict[str, Any]]:
    for c in components:
        c = sh.obj(c)
        yield c
        yield from _walk(sh.array(c.get("components")))


def _foreign(c: dict[str, Any], props: dict[str, str]) -> Package | None:
    purl = c.get("purl")
    if not isinstance(purl, str) or not purl:
        return None
    layer = props.get(TRIVY + "LayerDiffID", "")
    path = props.get(TRIVY + "FilePath", "")
    src_name = props.get(TRIVY + "SrcName", "")
    src_version = sh.source_version(props.get(TRIVY + "SrcVersion", ""), props.get(TRIVY + "SrcRelease", ""),
                                    props.get(TRIVY + "SrcEpoch", "")) if src_name else ""
    try:
        return sh.foreign_package(sh.ForeignFacts(
            purl=purl, version=str(c.get("version") or ""), licenses=_read_licenses(c),
            source_name=src_name, source_version=src_version,
            locations=(Location(path, layer),) if path or layer else ()))
    except ValueError:
        return None


def _image(top: dict[str, Any]) -> ImageMetadata:
    props = _properties(top)
    name = str(top.get("name") or "")
    version = str(top.get("version") or "")
    if any(k.startswith(sh.IMAGE) for k in props):
        return sh.own_image(name, version, props)
    return sh.foreign_image(name, version, str(top.get("purl") or ""),
                            ((k[len(TRIVY):], v) for k, v in _property_pairs(top) if k.startswith(TRIVY)))


def _tool(metadata: dict[str, Any]) -> str:
    tools = metadata.get("tools")
    # 1.2-1.4: a list of tools; 1.5+: {"components": [...], "services": [...]}.
    entries = sh.array(tools.get("components")) if isinstance(tools, dict) else sh.array(tools)
    for entry in entries:
        name = sh.obj(entry).get("name")
        if isinstance(name, str) and name:
            return name
    return "unknown"


def _read_licenses(c: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for choice in sh.array(c.get("licenses")):
        choice = sh.obj(choice)
        if isinstance(choice.get("expression"), str):
            out.append(choice["expression"])
            continue
        lic = sh.obj(choice.get("license"))
        value = lic.get("id") or lic.get("name")
        if isinstance(value, str) and value:
            out.append(value)
    return tuple(out)


def _property_pairs(c: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for prop in sh.array(c.get("properties")):
        prop = sh.obj(prop)
        name, value = prop.get("name"), prop.get("value", "")
        if isinstance(name, str) and isinstance(value, str):
            pairs.append((name, value))
    return pairs


def _properties(c: dict[str, Any]) -> dict[str, str]:
    return sh.collect(_property_pairs(c))
