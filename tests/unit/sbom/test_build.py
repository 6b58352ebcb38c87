"""SBOM building: distro choice, OS purls, de-duplication, whiteouts across layers."""

from __future__ import annotations

import pytest

from containerguard.models.artifact import ImageMetadata, Layer
from containerguard.models.layer import FileResult, LayerInventory
from containerguard.models.sbom import Collected, Distro, Location, Package
from containerguard.sbom.build import build_sbom
from containerguard.sbom.purl import os_purl

META = ImageMetadata(name="img", source="test", layers=(Layer("sha256:1", "sha256:1"), Layer("sha256:2", "sha256:2")))
DEBIAN = Distro("debian", "12", name="Debian GNU/Linux", codename="bookworm")


def deb(name: str, version: str, path: str = "var/lib/dpkg/status") -> Package:
    return Package("deb", name, version, arch="amd64", source_name=name, source_version=version,
                   locations=(Location("/" + path, "sha256:1"),))


@pytest.mark.parametrize(("pkg", "distro", "purl"), [
    (deb("libssl3", "3.0.11-1~deb12u2"), DEBIAN,
     "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"),
    (Package("apk", "musl", "1.2.4-r2", arch="x86_64"), Distro("alpine", "3.18.4"),
     "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"),
    (Package("rpm", "openssl-libs", "3.0.7", release="25.el9_3", epoch=1, arch="x86_64"), Distro("rhel", "9.3"),
     "pkg:rpm/redhat/openssl-libs@3.0.7-25.el9_3?arch=x86_64&distro=rhel-9.3&epoch=1"),
    (Package("rpm", "bash", "4.2.46", release="34.amzn2", arch="x86_64"), Distro("amzn", "2"),
     "pkg:rpm/amazon/bash@4.2.46-34.amzn2?arch=x86_64&distro=amzn-2"),
])
def test_os_purls(pkg: Package, distro: Distro, purl: str) -> None:
    assert os_purl(pkg, distro) == purl


def test_build_sets_distro_purls_and_sorts() -> None:
    l1 = LayerInventory("sha256:1", (
        FileResult("etc/os-release", "os-release", Collected(distro=DEBIAN)),
        FileResult("var/lib/dpkg/status", "dpkg", Collected(packages=(deb("zlib1g", "1:1.2.13"), deb("bash", "5.2")))),
    ))
    sbom = build_sbom(META, [l1])
    assert sbom.distro == DEBIAN
    assert [p.name for p in sbom.packages] == ["bash", "zlib1g"]
    assert sbom.packages[1].purl == "pkg:deb/debian/zlib1g@1:1.2.13?arch=amd64&distro=debian-12"


def test_upper_status_file_replaces_lower_one() -> None:
    l1 = LayerInventory("sha256:1", (
        FileResult("var/lib/dpkg/status", "dpkg", Collected(packages=(deb("a", "1"), deb("b", "1")))),))
    l2 = LayerInventory("sha256:2", (
        FileResult("var/lib/dpkg/status", "dpkg", Collected(packages=(deb("a", "1"),))),))
    assert [p.name for p in build_sbom(META, [l1, l2]).packages] == ["a"]


def test_duplicates_are_merged_with_all_locations() -> None:
    py = Package("pypi", "six", "1.16.0", purl="pkg:pypi/six@1.16.0", locations=(Location("/a/METADATA"),))
    py2 = Package("pypi", "six", "1.16.0", purl="pkg:pypi/six@1.16.0", locations=(Location("/b/METADATA"),))
    layer = LayerInventory("sha256:1", (FileResult("a/METADATA", "python", Collected(packages=(py,))),
                                        FileResult("b/METADATA", "python", Collected(packages=(py2,)))))
    (only,) = build_sbom(META, [layer]).packages
    assert [loc.path for loc in only.locations] == ["/a/METADATA", "/b/METADATA"]


def test_distroless_status_d_marks_distro() -> None:
    layer = LayerInventory("sha256:1", (
        FileResult("etc/os-release", "os-release", Collected(distro=DEBIAN)),
        FileResult("var/lib/dpkg/status.d/base", "dpkg", Collected(packages=(deb("base-files", "12.4"),))),
    ))
    sbom = build_sbom(META, [layer])
    assert sbom.distro is not None and sbom.distro.distroless
