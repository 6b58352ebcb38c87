"""SPDX: schema-valid 2.3 out, golden file, exact round trip, foreign 2.2/2.3 documents in, bad input."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from typing import Any

import jsonschema
import pytest
from sbom_samples import (
    ARTIFACT,
    DISTRO,
    PACKAGES,
    SBOM,
    TRIVY_SAMPLE_LAYER,
    TRIVY_SAMPLE_PACKAGES,
    check_golden,
    load_fixture,
)

from containerguard.errors import SbomError
from containerguard.models.artifact import ImageMetadata
from containerguard.models.sbom import Location, Package, Sbom
from containerguard.sbom.formats.base import get_format, read_document
from containerguard.sbom.formats.spdx import SpdxJson, spdx_schema

FMT = SpdxJson()
VALIDATOR = jsonschema.Draft7Validator(spdx_schema())
SLASH = "LicenseRef-Apache-2.0-" + hashlib.sha256(b"Apache/2.0").hexdigest()[:8]


def write_valid(sbom: Sbom) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(FMT.write(sbom))
    errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert not errors
    return doc


def test_schema_is_the_official_2_3() -> None:
    schema = spdx_schema()
    assert schema["$id"] == "http://spdx.org/rdf/terms/2.3"
    # The validator really checks: a document without its required fields fails.
    assert list(VALIDATOR.iter_errors({"SPDXID": "SPDXRef-DOCUMENT"}))


def test_golden_and_round_trip() -> None:
    text = FMT.write(SBOM)
    write_valid(SBOM)
    check_golden("sample.spdx.json", text)
    back = FMT.read(json.loads(text))
    assert back.packages == SBOM.packages
    assert back.distro == DISTRO
    assert back.artifact == ARTIFACT
    assert back.tool == "containerguard"


def test_document_shape() -> None:
    doc = write_valid(SBOM)
    assert (doc["SPDXID"], doc["spdxVersion"], doc["dataLicense"]) == ("SPDXRef-DOCUMENT", "SPDX-2.3", "CC0-1.0")
    assert doc["creationInfo"]["creators"] == ["Tool: containerguard-0.1.0"]
    assert ARTIFACT.manifest_digest in doc["documentNamespace"]
    assert doc["documentNamespace"] != write_valid(SBOM)["documentNamespace"]  # unique per document
    by_name = {p["name"]: p for p in doc["packages"]}
    image = by_name[ARTIFACT.name]
    assert image["primaryPackagePurpose"] == "CONTAINER"
    assert image["versionInfo"] == ARTIFACT.manifest_digest
    assert image["externalRefs"][0]["referenceLocator"].startswith("pkg:oci/app@")
    assert by_name["debian"]["primaryPackagePurpose"] == "OPERATING_SYSTEM"
    ssl = by_name["libssl3"]
    assert ssl["SPDXID"].startswith("SPDXRef-Package-")
    assert ssl["sourceInfo"] == "built package from: openssl 3.0.11-1~deb12u2"
    assert ssl["externalRefs"] == [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                    "referenceLocator": PACKAGES[1].purl}]
    assert (ssl["downloadLocation"], ssl["filesAnalyzed"], ssl["licenseConcluded"]) == (
        "NOASSERTION", False, "NOASSERTION")
    assert by_name["openssl-libs"]["versionInfo"] == "1:3.0.7-24.el9"
    assert "@babel/core" in by_name and "org.apache.logging.log4j:log4j-core" in by_name
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("licenses", "declared", "refs"), [
    ((), "NOASSERTION", {}),
    (("MIT",), "MIT", {}),
    (("MIT OR Apache-2.0",), "MIT OR Apache-2.0", {}),
    (("Apache 2.0",), "LicenseRef-Apache-2.0", {"LicenseRef-Apache-2.0": "Apache 2.0"}),
    (("GPL-2.0-or-later", "BSD-3-Clause"), "GPL-2.0-or-later AND BSD-3-Clause", {}),
    (("MIT OR Apache-2.0", "Public Domain"), "(MIT OR Apache-2.0) AND LicenseRef-Public-Domain",
     {"LicenseRef-Public-Domain": "Public Domain"}),
    # Two texts that sanitise alike still get different LicenseRefs.
    (("Apache 2.0", "Apache/2.0"), f"LicenseRef-Apache-2.0 AND {SLASH}",
     {"LicenseRef-Apache-2.0": "Apache 2.0", SLASH: "Apache/2.0"}),
])
def test_licenses(licenses: tuple[str, ...], declared: str, refs: dict[str, str]) -> None:
    pkg = Package("pypi", "x", "1", licenses=licenses, purl="pkg:pypi/x@1")
    doc = write_valid(dataclasses.replace(SBOM, packages=(pkg,)))
    spdx_pkg = next(p for p in doc["packages"] if p["name"] == "x")
    assert spdx_pkg["licenseDeclared"] == declared
    assert {x["licenseId"]: x["extractedText"] for x in doc.get("hasExtractedLicensingInfos", [])} == refs
    # SPDX keeps the licence strings, in their order.
    assert FMT.read(doc).packages[0].licenses == licenses


def test_relationships() -> None:
    doc = write_valid(SBOM)
    ids = {p["name"]: p["SPDXID"] for p in doc["packages"]}
    rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
    image, os_id = ids[ARTIFACT.name], ids["debian"]
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", image) in rels
    assert (image, "CONTAINS", os_id) in rels
    for name in ("libssl3", "login", "openssl-libs", "musl"):
        assert (os_id, "CONTAINS", ids[name]) in rels
    for name in ("requests", "@babel/core", "github.com/acme/x", "stdlib"):
        assert (image, "CONTAINS", ids[name]) in rels
    assert len(rels) == 2 + len(PACKAGES)


def test_no_distro() -> None:
    bare = Sbom(artifact=ImageMetadata(name="dir:/srv/root", source="dir", layers=()), distro=None,
                packages=(PACKAGES[1],))
    doc = write_valid(bare)
    back = FMT.read(doc)
    assert (back.artifact, back.distro, back.packages) == (bare.artifact, None, bare.packages)


def test_read_real_trivy_spdx() -> None:
    """A document Trivy 0.76 wrote (see tests/fixtures/sbom/make_trivy_sample.py)."""
    sbom = FMT.read(load_fixture("trivy-image.spdx.json"))
    layer = TRIVY_SAMPLE_LAYER
    assert sbom.tool == "trivy"
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version_id) == ("debian", "12.2")
    assert sbom.artifact.name == "image.tar"
    assert sbom.artifact.config_digest.startswith("sha256:")
    assert [x.diff_id for x in sbom.artifact.layers] == [layer]
    assert sbom.packages == TRIVY_SAMPLE_PACKAGES


SPDX_22 = {
    "spdxVersion": "SPDX-2.2", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "alpine:3.18",
    "documentNamespace": "https://example.test/alpine-1", "documentDescribes": ["SPDXRef-img"],
    "creationInfo": {"creators": ["Organization: Example", "Tool: syft-0.90.0"], "created": "2024-01-01T00:00:00Z"},
    "packages": [
        {"SPDXID": "SPDXRef-img", "name": "alpine:3.18", "versionInfo": "sha256:" + "e" * 64,
         "downloadLocation": "NOASSERTION"},
        {"SPDXID": "SPDXRef-musl", "name": "musl", "versionInfo": "1.2.4-r1", "downloadLocation": "NOASSERTION",
         "licenseConcluded": "NOASSERTION", "licenseDeclared": "LicenseRef-musl-license",
         "sourceInfo": "built package from: musl 1.2.4-r1",
         "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
                           "referenceLocator": "pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64"}]},
        {"SPDXID": "SPDXRef-tool", "name": "some-tool", "versionInfo": "1.0", "downloadLocation": "NONE"},
    ],
    "files": [{"SPDXID": "SPDXRef-f1", "fileName": "./lib/apk/db/installed", "checksums": []}],
    "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-musl-license", "extractedText": "MIT-ish",
                                    "name": "musl licence"}],
    "relationships": [{"spdxElementId": "SPDXRef-f1", "relationshipType": "CONTAINED_BY",
                       "relatedSpdxElement": "SPDXRef-musl"}],
}


def test_read_foreign_spdx_2_2() -> None:
    sbom = FMT.read(copy.deepcopy(SPDX_22))
    assert sbom.tool == "syft"
    assert (sbom.artifact.name, sbom.artifact.manifest_digest) == ("alpine:3.18", "sha256:" + "e" * 64)
    assert sbom.distro is None
    assert sbom.packages == (Package(
        "apk", "musl", "1.2.4-r1", arch="x86_64", source_name="musl", source_version="1.2.4-r1",
        licenses=("musl licence",), locations=(Location("./lib/apk/db/installed", ""),),
        purl="pkg:apk/alpine/musl@1.2.4-r1?arch=x86_64"),)
    assert [s.path for s in sbom.skipped] == ["some-tool"]
    assert "no usable purl" in sbom.skipped[0].reason


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(load_fixture("trivy-image.spdx.json"))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("doc", [
    {"spdxVersion": "SPDX-3.0"},
    {"bomFormat": "CycloneDX"},
    _broken(("packages",), "x"),
    _broken(("packages", 1), 3),
    _broken(("packages", 1, "SPDXID"), None),
    _broken(("packages", 2, "annotations"), {"a": 1}),
    _broken(("relationships",), {"a": 1}),
    _broken(("files", 0), "x"),
    _broken(("creationInfo",), "x"),
    {**copy.deepcopy(SPDX_22), "packages": [{"SPDXID": "SPDXRef-x", "name": "x", "annotations": [
        {"comment": "containerguard:package:type: rpm"}, {"comment": "containerguard:package:epoch: one"}]}]},
], ids=["spdx3", "not-spdx", "packages-string", "package-int", "spdxid-null", "annotations-object",
        "relationships-object", "file-string", "creation-string", "bad-epoch"])
def test_malformed(doc: dict[str, Any]) -> None:
    with pytest.raises(SbomError):
        FMT.read(doc)


def test_registered_and_detected() -> None:
    assert isinstance(get_format("spdx"), SpdxJson)
    doc = json.loads(FMT.write(SBOM))
    assert FMT.detect(doc) and FMT.detect(SPDX_22)
    assert not FMT.detect({"bomFormat": "CycloneDX"})
    assert read_document(doc).packages == SBOM.packages
