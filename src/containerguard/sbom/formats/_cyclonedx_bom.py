"""The CycloneDX model of an inventory (components, bom-refs, dependencies), as Trivy writes it.

Kept apart from :mod:`containerguard.sbom.formats.cyclonedx` so that loading the format registry does not
import the CycloneDX library (tens of milliseconds at start-up); it is imported when a document is written."""

from __future__ import annotations

import uuid

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import License
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import is_supported_id
from packageurl import PackageURL

from containerguard import __version__
from containerguard.errors import SbomError
from containerguard.models.sbom import Package, Sbom
from containerguard.sbom.formats import _shared as sh

TOOL = "containerguard"
_NAMESPACE = uuid.UUID("6f2b8d52-6c8e-4c1e-9a43-3f0d2b7c1e55")
"""uuid5 namespace of our bom-refs for the image and the OS (stable from run to run)."""


def render(sbom: Sbom) -> str:
    """The document, validated by the library's model checks, as indented JSON."""
    try:
        return JsonV1Dot6(build_bom(sbom)).output_as_string(indent=2) + "\n"
    except ValueError as exc:  # a purl the packageurl parser refuses
        raise SbomError(f"cannot write CycloneDX: {exc}") from exc


def build_bom(sbom: Sbom) -> Bom:
    """The CycloneDX model of an inventory."""
    a = sbom.artifact
    image_purl = sh.image_purl(a)
    image = Component(
        type=ComponentType.CONTAINER, name=a.name, version=a.manifest_digest or None,
        bom_ref=image_purl or str(uuid.uuid5(_NAMESPACE, f"image\n{a.name}\n{a.manifest_digest}")),
        purl=PackageURL.from_string(image_purl) if image_purl else None,
        properties=_props(sh.image_properties(a)))
    bom = Bom()
    bom.metadata.component = image
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name=TOOL, version=__version__))
    os_component = None
    if sbom.distro is not None:
        d = sbom.distro
        os_component = Component(
            type=ComponentType.OPERATING_SYSTEM, name=d.id, version=d.version_id or None,
            bom_ref=str(uuid.uuid5(_NAMESPACE, f"os\n{a.name}\n{d.id}\n{d.version_id}")),
            properties=_props(sh.distro_properties(d)))
        bom.components.add(os_component)
    os_packages: list[Component] = []
    others: list[Component] = []
    for p, ref in zip(sbom.packages, sh.package_refs(sbom.packages), strict=True):
        component = _component(p, ref)
        bom.components.add(component)
        is_os = p.type in sh.OS_TYPES and os_component is not None
        (os_packages if is_os else others).append(component)
    if os_component is not None:
        bom.register_dependency(os_component, os_packages)
        bom.register_dependency(image, [os_component, *others])
    else:
        bom.register_dependency(image, others)
    for component in (*os_packages, *others):
        # Every component gets its (empty) entry, as Trivy writes: "depends on nothing we know".
        bom.register_dependency(component, [])
    return bom


def _component(p: Package, ref: str) -> Component:
    group = p.namespace if p.type in ("maven", "npm") and p.namespace else None
    version = p.full_version
    return Component(
        type=ComponentType.LIBRARY, name=p.name if group else sh.display_name(p), group=group,
        version=version or None, bom_ref=ref, purl=PackageURL.from_string(p.purl) if p.purl else None,
        licenses=_licenses(p.licenses), properties=_props(sh.package_properties(p, version)))


def _licenses(licenses: tuple[str, ...]) -> list[License]:
    factory = LicenseFactory()
    names = [n for n in licenses if n.strip()]
    if len(names) == 1:
        # One string may be an SPDX expression; CycloneDX allows an expression only on its own.
        return [factory.make_from_string(names[0])]
    return [factory.make_with_id(n) if is_supported_id(n) else factory.make_with_name(n) for n in names]


def _props(pairs: sh.Properties) -> list[Property]:
    return [Property(name=name, value=value) for name, value in pairs]


# --- reading --------------------------------------------------------------------------------------
