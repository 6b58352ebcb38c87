"""CycloneDX: schema-valid 1.6 out, golden file, exact round trip, Trivy's documents in, bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sbom_samples import (
    ARTIFACT,
    DISTRO,
    L1,
    PACKAGES,
    SBOM,
    TRIVY_SAMPLE_LAYER,
    TRIVY_SAMPLE_PACKAGES,
    check_golden,
    load_fixture,
)

from containerguard.errors import SbomError
from containerguard.models.artifact import ImageMetadata
from containerguard.models.sbom import Location, Package, Sbom, Skipped
from containerguard.sbom.formats.base import get_format, read_document
from containerguard.sbom.formats.cyclonedx import CycloneDx

FMT = CycloneDx()


def write_valid(sbom: Sbom) -> dict[str, Any]:
    text = FMT.write(sbom)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(e) for e in errors]
    doc: dict[str, Any] = json.loads(text)
    return doc


def test_golden_and_round_trip() -> None:
    text = FMT.write(SBOM)
    write_valid(SBOM)
    check_golden("sample.cdx.json", text)
    back = FMT.read(json.loads(text))
    assert back.packages == SBOM.packages
    assert back.distro == DISTRO
    assert back.artifact == ARTIFACT
    assert back.tool == "containerguard"


def test_document_shape() -> None:
    doc = write_valid(SBOM)
    assert doc["specVersion"] == "1.6"
    image = doc["metadata"]["component"]
    assert image["type"] == "container"
    assert image["version"] == ARTIFACT.manifest_digest
    assert image["purl"].startswith("pkg:oci/app@sha256:")
    assert "repository_url=registry.example.test:5000/team/app" in image["purl"]
    assert doc["metadata"]["tools"]["components"][0]["name"] == "containerguard"
    by_name = {c["name"]: c for c in doc["components"]}
    assert by_name["debian"]["type"] == "operating-system"
    assert by_name["debian"]["version"] == "12"
    # rpm: epoch and release in the version, as in the purl; npm/maven: group; golang: module path.
    assert by_name["openssl-libs"]["version"] == "1:3.0.7-24.el9"
    assert by_name["core"]["group"] == "@babel"
    assert by_name["log4j-core"]["group"] == "org.apache.logging.log4j"
    assert "github.com/acme/x" in by_name
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(refs) == len(set(refs))
    assert {"pkg:pypi/requests@2.31.0", "pkg:pypi/requests@2.31.0#2"} <= set(refs)
    props = {p["name"]: p["value"] for p in by_name["login"]["properties"]}
    assert props["containerguard:package:location:1"] == "var/lib/dpkg/status"
    assert props["containerguard:package:source_name"] == "shadow"


def test_dependencies() -> None:
    doc = write_valid(SBOM)
    deps = {d["ref"]: set(d.get("dependsOn", ())) for d in doc["dependencies"]}
    refs = {c["name"]: c["bom-ref"] for c in doc["components"]}
    os_ref, image_ref = refs["debian"], doc["metadata"]["component"]["bom-ref"]
    os_names = {p.name for p in PACKAGES if p.type in ("deb", "rpm", "apk")}
    assert deps[os_ref] == {r for c in doc["components"] if c["name"] in os_names for r in [c["bom-ref"]]}
    others = {c["bom-ref"] for c in doc["components"] if c["name"] not in os_names | {"debian"}}
    assert deps[image_ref] == others | {os_ref}


def test_no_distro_and_no_packages() -> None:
    bare = Sbom(artifact=ImageMetadata(name="dir:/srv/root", source="dir", layers=()), distro=None, packages=())
    doc = write_valid(bare)
    assert "purl" not in doc["metadata"]["component"]
    assert FMT.read(doc).artifact == bare.artifact
    # OS packages without a distro hang off the image.
    only_deb = dataclasses.replace(bare, packages=(PACKAGES[1],))
    doc = write_valid(only_deb)
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps[doc["metadata"]["component"]["bom-ref"]] == [doc["components"][0]["bom-ref"]]
    assert FMT.read(doc).packages == only_deb.packages


@pytest.mark.parametrize(("licenses", "expected"), [
    (("MIT OR Apache-2.0",), [{"expression": "MIT OR Apache-2.0"}]),
    (("Apache 2.0",), [{"license": {"name": "Apache 2.0"}}]),
    (("MIT",), [{"license": {"id": "MIT"}}]),
    # Several: each its own licence (an expression among them becomes a named licence).
    (("MIT", "GPL-2.0-only OR MIT"), [{"license": {"id": "MIT"}}, {"license": {"name": "GPL-2.0-only OR MIT"}}]),
])
def test_licenses(licenses: tuple[str, ...], expected: list[dict[str, Any]]) -> None:
    pkg = Package("pypi", "x", "1", licenses=licenses, purl="pkg:pypi/x@1")
    doc = write_valid(dataclasses.replace(SBOM, packages=(pkg,)))
    component = next(c for c in doc["components"] if c["name"] == "x")
    assert component["licenses"] == expected
    assert set(FMT.read(doc).packages[0].licenses) == set(licenses)


def test_read_real_trivy_image_sbom() -> None:
    """A document Trivy 0.76 wrote (see tests/fixtures/sbom/make_trivy_sample.py); CycloneDX 1.7."""
    sbom = FMT.read(load_fixture("trivy-image.cdx.json"))
    layer = TRIVY_SAMPLE_LAYER
    assert sbom.tool == "trivy"
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version_id) == ("debian", "12.2")
    assert sbom.artifact.name == "image.tar"
    assert sbom.artifact.repo_tags == ("example.test/cg/sample:1.0",)
    assert [x.diff_id for x in sbom.artifact.layers] == [layer]
    assert sbom.packages == TRIVY_SAMPLE_PACKAGES
    assert sbom.skipped == ()


def test_read_trivy_registry_rpm_nested() -> None:
    """Trivy's shape for a registry image (pkg:oci purl, RepoDigest) with rpms, plus nested components."""
    sbom = FMT.read(load_fixture("trivy-registry-rpm.cdx.json"))
    digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    assert sbom.artifact.manifest_digest == digest
    assert sbom.artifact.config_digest == "sha256:" + "b" * 64
    assert sbom.artifact.repo_digests == (f"registry.access.redhat.com/ubi9@{digest}",)
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version_id) == ("redhat", "9.3")
    by_name = {p.name: p for p in sbom.packages}
    ssl = by_name["openssl-libs"]
    assert (ssl.version, ssl.release, ssl.epoch, ssl.arch) == ("3.0.7", "24.el9", 1, "x86_64")
    assert ssl.full_version == "1:3.0.7-24.el9"
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.0.7-24.el9")
    assert ssl.licenses == ("ASL 2.0",)
    tz = by_name["tzdata"]
    assert (tz.version, tz.release, tz.epoch) == ("2023c", "1.el9", None)
    log4j = by_name["log4j-core"]  # nested inside an application component
    assert (log4j.namespace, log4j.version) == ("org.apache.logging.log4j", "2.14.1")
    assert log4j.locations == (Location("opt/app/lib/log4j-core-2.14.1.jar", "sha256:" + "c" * 64),)
    assert {s.path for s in sbom.skipped} == {"opt/app/pom.xml", "internal-lib"}
    assert all("no usable purl" in s.reason for s in sbom.skipped)


def test_read_cyclonedx_1_4_tools_list() -> None:
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
           "metadata": {"tools": [{"vendor": "x", "name": "syft", "version": "0.90"}],
                        "component": {"type": "container", "name": "alpine:3.18"}},
           "components": [{"type": "library", "name": "musl", "version": "1.2.4-r1",
                           "purl": "pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4"},
                          {"type": "operating-system", "name": "alpine", "version": "3.18.4"}]}
    sbom = FMT.read(doc)
    assert sbom.tool == "syft"
    assert sbom.packages == (Package("apk", "musl", "1.2.4-r1", arch="x86_64",
                                     purl="pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64&distro=alpine-3.18.4"),)
    assert sbom.distro is not None and sbom.distro.version_id == "3.18.4"


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(load_fixture("trivy-image.cdx.json"))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("doc", [
    {"bomFormat": "SPDX"},
    {"bomFormat": "CycloneDX"},
    {"bomFormat": "CycloneDX", "specVersion": "2.0"},
    _broken(("components",), {"not": "a list"}),
    _broken(("components", 1), "a string"),
    _broken(("components", 1, "name"), 42),
    _broken(("components", 0, "name"), None),
    _broken(("components", 2, "properties"), "x"),
    _broken(("metadata",), []),
    _broken(("metadata", "component", "properties"), [{"name": "containerguard:image:layer_diff_id", "value": "a"},
                                                      {"name": "containerguard:image:layer_size", "value": "x"}]),
], ids=["not-cdx", "no-spec", "spec-2", "components-object", "component-string", "name-int", "os-name-null",
        "properties-string", "metadata-list", "bad-layer-size"])
def test_malformed(doc: dict[str, Any]) -> None:
    with pytest.raises(SbomError):
        FMT.read(doc)


def test_own_package_fields_survive_odd_values() -> None:
    odd = Package("rpm", "kernel", "5.14.0", release="362.8.1.el9_3", epoch=0, arch="x86_64",
                  locations=(Location("", L1), Location("var/lib/rpm/Packages", "")), dev=True,
                  purl="pkg:rpm/redhat/kernel@5.14.0-362.8.1.el9_3?arch=x86_64")
    sbom = dataclasses.replace(SBOM, packages=(odd,), skipped=(Skipped("a", "b"),))
    assert FMT.read(write_valid(sbom)).packages == (odd,)


def test_registered_and_detected() -> None:
    assert isinstance(get_format("cyclonedx"), CycloneDx)
    doc = json.loads(FMT.write(SBOM))
    assert FMT.detect(doc)
    assert not FMT.detect({"spdxVersion": "SPDX-2.3"})
    assert read_document(doc).packages == SBOM.packages


def test_unwritable_purl_is_an_sbom_error() -> None:
    bad = Package("pypi", "x", "1", purl="not a purl")
    with pytest.raises(SbomError):
        FMT.write(dataclasses.replace(SBOM, packages=(bad,)))
