"""SPDX 2.3 JSON, written by hand; SPDX 2.2 and 2.3 JSON read back.

Shape (close to Trivy's SPDX, so tools that read Trivy's read ours):

- packages: the image (``primaryPackagePurpose`` CONTAINER, version = manifest digest, purl
  ``pkg:oci/…``), the OS (OPERATING_SYSTEM, name = distro id, version = VERSION_ID) and one package
  per inventory package (``SPDXRef-Package-<hash>``, version as the ecosystem writes it, purl as a
  PACKAGE-MANAGER external ref, ``sourceInfo`` "built package from: NAME VERSION", licences as an
  SPDX expression, a string that is not SPDX becoming ``LicenseRef-…`` with its text in
  ``hasExtractedLicensingInfos``); ``filesAnalyzed`` false: we list no files.
- relationships: the document DESCRIBES the image, the image CONTAINS the OS and the non-OS packages,
  the OS CONTAINS the OS packages.
- the fields SPDX has no slot for (locations and their layers, rpm release/epoch, arch, the exact
  licence strings, image layers…) as annotations of type OTHER whose comment is
  ``containerguard:NAME: VALUE`` (the same names as our CycloneDX properties, see :mod:`._shared`),
  as Trivy writes ``LayerDiffID: sha256:…``. Annotations are schema-valid on any SPDX element and
  keep their order, so lists round-trip exactly.

The schema used in tests is vendored in ``schemas/spdx-2.3.schema.json`` (see its README).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from containerguard import __version__
from containerguard.errors import SbomError
from containerguard.jsontext import dumps_indented
from containerguard.models.artifact import ImageMetadata
from containerguard.models.sbom import Distro, Location, Package, Sbom, Skipped
from containerguard.registry import register
from containerguard.sbom.formats import _shared as sh
from containerguard.sbom.formats.base import SbomFormat

DOCUMENT_ID = "SPDXRef-DOCUMENT"
NOASSERTION = "NOASSERTION"
SOURCE_INFO = "built package from: "
OS_PURPOSE = "OPERATING_SYSTEM"
"""The 2.3 JSON schema spells it with an underscore (the spec's prose, and Trivy, with a hyphen)."""
_OS_PURPOSES = frozenset({OS_PURPOSE, "OPERATING-SYSTEM"})
_NO_LICENSE = frozenset({NOASSERTION, "NONE", ""})
_REF_CHARS = re.compile(r"[^A-Za-z0-9.-]+")
_NAMESPACE_BASE = "https://containerguard.invalid/spdx/"
"""``.invalid`` is reserved (RFC 2606): the namespace is a unique name, not a place to fetch."""


def spdx_schema() -> dict[str, Any]:
    """The official SPDX 2.3 JSON schema (vendored)."""
    text = resources.files("containerguard.sbom.formats").joinpath("schemas/spdx-2.3.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@register("sbom-format", "spdx")
class SpdxJson(SbomFormat):
    """SPDX JSON (writes 2.3)."""

    name = "spdx"

    def write(self, sbom: Sbom) -> str:
        """The document as indented JSON, in a stable order."""
        return dumps_indented(build_document(sbom))

    def detect(self, document: dict[str, Any]) -> bool:
        """SPDX 2.x JSON says so in ``spdxVersion``."""
        version = document.get("spdxVersion")
        return isinstance(version, str) and version.startswith("SPDX-2.")

    def read(self, document: dict[str, Any]) -> Sbom:
        """Rebuild the inventory; :class:`SbomError` when the document is not SPDX 2 JSON."""
        if not self.detect(document):
            raise SbomError(f"not an SPDX 2.x document (spdxVersion {document.get('spdxVersion')!r})")
        try:
            return _read(document)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SbomError(f"malformed SPDX document: {exc!r}") from exc


# --- writing --------------------------------------------------------------------------------------

class _Writer:
    """State of one document being written: its time, tool, and the LicenseRefs it defines."""

    def __init__(self) -> None:
        self.created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.tool = f"Tool: containerguard-{__version__}"
        self.license_refs: dict[str, str] = {}
        """LicenseRef id -> the original text."""

    def annotations(self, pairs: sh.Properties) -> list[dict[str, str]]:
        return [{"annotator": self.tool, "annotationDate": self.created, "annotationType": "OTHER",
                 "comment": f"{name}: {value}"} for name, value in pairs]

    def license_expression(self, licenses: tuple[str, ...]) -> str:
        terms = [self._term(text) for text in licenses if text.strip()]
        if not terms:
            return NOASSERTION
        if len(terms) == 1:
            return terms[0]
        return " AND ".join(f"({t})" if " " in t else t for t in terms)

    def _term(self, text: str) -> str:
        from cyclonedx.spdx import is_expression  # ~20 ms to import: only when writing SPDX

        if is_expression(text):
            return text
        base = "LicenseRef-" + (_REF_CHARS.sub("-", text).strip("-") or "unknown")
        ref = base
        if self.license_refs.get(ref, text) != text:
            # Two texts sanitised alike ("Apache 2.0", "Apache/2.0"): tell them apart.
            ref = f"{base}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
        self.license_refs[ref] = text
        return ref


def build_document(sbom: Sbom) -> dict[str, Any]:
    """The SPDX 2.3 document of an inventory, as a JSON-ready dict."""
    w = _Writer()
    a = sbom.artifact
    image_id = "SPDXRef-ContainerImage-" + _hash(f"{a.name}\n{a.manifest_digest}")
    image: dict[str, Any] = _package(image_id, a.name, a.manifest_digest, "CONTAINER")
    image_purl = sh.image_purl(a)
    if image_purl:
        image["externalRefs"] = [_purl_ref(image_purl)]
    image["annotations"] = w.annotations(sh.image_properties(a))
    packages = [image]
    relationships = [_rel(DOCUMENT_ID, "DESCRIBES", image_id)]
    os_id = ""
    if sbom.distro is not None:
        d = sbom.distro
        os_id = "SPDXRef-OperatingSystem-" + _hash(f"{d.id}\n{d.version_id}")
        os_package = _package(os_id, d.id, d.version_id, OS_PURPOSE)
        if props := sh.distro_properties(d):
            os_package["annotations"] = w.annotations(props)
        packages.append(os_package)
        relationships.append(_rel(image_id, "CONTAINS", os_id))
    for p, ref in zip(sbom.packages, sh.package_refs(sbom.packages), strict=True):
        spdx_id = "SPDXRef-Package-" + _hash(ref)
        packages.append(_inventory_package(w, spdx_id, p))
        parent = os_id if os_id and p.type in sh.OS_TYPES else image_id
        relationships.append(_rel(parent, "CONTAINS", spdx_id))
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": a.name,
        "documentNamespace": _NAMESPACE_BASE + quote(
            f"{a.name}@{a.manifest_digest}" if a.manifest_digest else a.name, safe="@:") + f"/{uuid.uuid4()}",
        "creationInfo": {"creators": [w.tool], "created": w.created},
        "packages": packages,
        "relationships": relationships,
    }
    if w.license_refs:
        doc["hasExtractedLicensingInfos"] = [
            {"licenseId": ref, "name": text, "extractedText": text} for ref, text in w.license_refs.items()]
    return doc


def _inventory_package(w: _Writer, spdx_id: str, p: Package) -> dict[str, Any]:
    version = p.full_version
    out = _package(spdx_id, sh.display_name(p), version, "LIBRARY")
    out["licenseDeclared"] = w.license_expression(p.licenses)
    if p.source_name:
        out["sourceInfo"] = f"{SOURCE_INFO}{p.source_name} {p.source_version}".rstrip()
    if p.purl:
        out["externalRefs"] = [_purl_ref(p.purl)]
    props = sh.package_properties(p, version)
    props += [(sh.indexed(sh.PKG + "license", i), text) for i, text in enumerate(p.licenses)]
    out["annotations"] = w.annotations(props)
    return out


def _package(spdx_id: str, name: str, version: str, purpose: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "SPDXID": spdx_id}
    if version:
        out["versionInfo"] = version
    out.update({"downloadLocation": NOASSERTION, "filesAnalyzed": False, "licenseConcluded": NOASSERTION,
                "licenseDeclared": NOASSERTION, "copyrightText": NOASSERTION,
                "primaryPackagePurpose": purpose})
    return out


def _purl_ref(purl: str) -> dict[str, str]:
    return {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}


def _rel(element: str, kind: str, related: str) -> dict[str, str]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- reading --------------------------------------------------------------------------------------

def _read(doc: dict[str, Any]) -> Sbom:
    spdx_packages = [sh.obj(p) for p in sh.array(doc.get("packages"))]
    by_id = {sh.text(p, "SPDXID"): p for p in spdx_packages}
    files = {sh.text(f, "SPDXID"): str(f.get("fileName", "")) for f in map(sh.obj, sh.array(doc.get("files")))}
    contains: dict[str, list[str]] = {}
    described = [str(x) for x in sh.array(doc.get("documentDescribes"))]
    for rel in map(sh.obj, sh.array(doc.get("relationships"))):
        kind, left, right = rel.get("relationshipType"), rel.get("spdxElementId"), rel.get("relatedSpdxElement")
        if not isinstance(left, str) or not isinstance(right, str):
            continue
        if kind == "CONTAINS":
            contains.setdefault(left, []).append(right)
        elif kind == "CONTAINED_BY":
            contains.setdefault(right, []).append(left)
        elif kind == "DESCRIBES" and left == DOCUMENT_ID:
            described.append(right)
        elif kind == "DESCRIBED_BY" and right == DOCUMENT_ID:
            described.append(left)
    image = next((p for p in spdx_packages if p.get("primaryPackagePurpose") == "CONTAINER"),
                 next((by_id[i] for i in described if i in by_id), None))
    os_package = next((p for p in spdx_packages if p.get("primaryPackagePurpose") in _OS_PURPOSES), None)
    extracted = {str(x.get("licenseId")): str(x.get("name") or x.get("extractedText") or "")
                 for x in map(sh.obj, sh.array(doc.get("hasExtractedLicensingInfos")))}
    packages: list[Package] = []
    skipped: list[Skipped] = []
    for p in spdx_packages:
        if p is image or p is os_package:
            continue
        package = _inventory(p, extracted, [files[f] for f in contains.get(sh.text(p, "SPDXID"), ()) if f in files])
        if package is None:
            skipped.append(Skipped(sh.text(p, "name"), f"SPDX package {p['SPDXID']!r} has no usable purl"))
        else:
            packages.append(package)
    distro: Distro | None = None
    if os_package is not None:
        distro = sh.distro_from(sh.text(os_package, "name"), str(os_package.get("versionInfo", "")),
                                sh.collect(_annotations(os_package)))
    packages.sort(key=sh.inventory_order)
    return Sbom(artifact=_image(image, doc), distro=distro, packages=tuple(packages), skipped=tuple(skipped),
                tool=_tool(doc))


def _inventory(p: dict[str, Any], extracted: dict[str, str], file_names: list[str]) -> Package | None:
    props = sh.collect(_annotations(p))
    purl = _purl(p)
    version = str(p.get("versionInfo", ""))
    if sh.is_ours(props):
        return sh.own_package(props, sh.text(p, "name"), version, purl,
                              tuple(sh.listed(props, sh.PKG + "license")))
    if not purl:
        return None
    source_name = source_version = ""
    info = p.get("sourceInfo")
    if isinstance(info, str) and info.startswith(SOURCE_INFO):
        source_name, _, source_version = info[len(SOURCE_INFO):].strip().partition(" ")
    layer = props.get("LayerDiffID", "")
    locations = tuple(Location(name, layer) for name in file_names) or (
        (Location("", layer),) if layer else ())
    try:
        return sh.foreign_package(sh.ForeignFacts(
            purl=purl, version=version, licenses=_licenses(p, extracted), source_name=source_name,
            source_version=source_version.strip(), locations=locations))
    except ValueError:
        return None


def _licenses(p: dict[str, Any], extracted: dict[str, str]) -> tuple[str, ...]:
    for key in ("licenseDeclared", "licenseConcluded"):
        value = p.get(key)
        if isinstance(value, str) and value.strip() not in _NO_LICENSE:
            value = value.strip()
            # A lone LicenseRef stands for a text we can give back as it was found.
            return (extracted.get(value) or value,)
    return ()


def _image(image: dict[str, Any] | None, doc: dict[str, Any]) -> ImageMetadata:
    if image is None:
        return ImageMetadata(name=str(doc.get("name", "")), source=sh.FOREIGN_SOURCE, layers=())
    pairs = _annotations(image)
    name, version = sh.text(image, "name"), str(image.get("versionInfo", ""))
    props = sh.collect(pairs)
    if any(k.startswith(sh.IMAGE) for k in props):
        return sh.own_image(name, version, props)
    return sh.foreign_image(name, version, _purl(image), pairs)


def _tool(doc: dict[str, Any]) -> str:
    creators = sh.obj(doc.get("creationInfo")).get("creators")
    for creator in sh.array(creators):
        if isinstance(creator, str) and creator.startswith("Tool:"):
            tool = creator[len("Tool:"):].strip()
            name, dash, version = tool.rpartition("-")
            return name if dash and version[:1].isdigit() else tool
    return "unknown"


def _annotations(element: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for note in map(sh.obj, sh.array(element.get("annotations"))):
        comment = note.get("comment")
        if isinstance(comment, str) and ": " in comment:
            name, _, value = comment.partition(": ")
            pairs.append((name, value))
    return pairs


def _purl(p: dict[str, Any]) -> str:
    for ref in map(sh.obj, sh.array(p.get("externalRefs"))):
        # SPDX 2.2 spelled the category PACKAGE_MANAGER, 2.3 PACKAGE-MANAGER.
        if ref.get("referenceType") == "purl" and isinstance(ref.get("referenceLocator"), str):
            return str(ref["referenceLocator"])
    return ""
