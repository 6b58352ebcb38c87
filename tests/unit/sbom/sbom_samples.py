"""A small hand-built inventory for the SBOM format tests, and golden-file helpers.

Set ``CG_UPDATE_GOLDEN=1`` to rewrite the golden files in tests/fixtures/sbom/ instead of comparing.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from containerguard.models.artifact import ImageMetadata, Layer, Platform
from containerguard.models.sbom import Distro, Location, Package, Sbom

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sbom"
L1 = "sha256:" + "1" * 64
L2 = "sha256:" + "2" * 64
DIGEST = "sha256:" + "d" * 64

ARTIFACT = ImageMetadata(
    name="registry.example.test:5000/team/app:1.0", source="registry",
    layers=(Layer("sha256:" + "a" * 64, L1, "application/vnd.oci.image.layer.v1.tar+gzip", 1234, "ADD rootfs /"),
            Layer("sha256:" + "b" * 64, L2, "application/vnd.oci.image.layer.v1.tar+gzip", 567)),
    manifest_digest=DIGEST, config_digest="sha256:" + "c" * 64,
    repo_tags=("registry.example.test:5000/team/app:1.0", "registry.example.test:5000/team/app:latest"),
    platform=Platform("linux", "arm64", "v8"), created="2024-01-02T03:04:05Z")

DISTRO = Distro("debian", "12", name="Debian GNU/Linux", pretty_name="Debian GNU/Linux 12 (bookworm)",
                codename="bookworm", id_like=("ubuntu-ish", "linux"))

# In the order build_sbom gives (type, namespace, name, full version), which readers restore.
PACKAGES = (
    Package("apk", "musl", "1.2.4-r2", arch="x86_64", source_name="musl", source_version="1.2.4-r2",
            licenses=("MIT",), locations=(Location("lib/apk/db/installed", L2),),
            purl="pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=debian-12"),
    Package("deb", "libssl3", "3.0.11-1~deb12u2", arch="amd64", source_name="openssl",
            source_version="3.0.11-1~deb12u2", licenses=("Apache-2.0",),
            locations=(Location("var/lib/dpkg/status", L1),),
            purl="pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"),
    # CycloneDX licences are a set: several are written (and read back) in sorted order.
    Package("deb", "login", "1:4.13+dfsg1-1+b1", arch="amd64", source_name="shadow",
            source_version="1:4.13+dfsg1-1", licenses=("BSD-3-Clause", "GPL-2.0-or-later"),
            locations=(Location("var/lib/dpkg/status", L1), Location("var/lib/dpkg/status", L2)),
            purl="pkg:deb/debian/login@1:4.13%2Bdfsg1-1%2Bb1?arch=amd64&distro=debian-12"),
    Package("golang", "stdlib", "v1.21.5", locations=(Location("usr/local/bin/app", L2),),
            purl="pkg:golang/stdlib@v1.21.5"),
    Package("golang", "x", "v1.2.3", namespace="github.com/acme", locations=(Location("usr/local/bin/app", L2),),
            purl="pkg:golang/github.com/acme/x@v1.2.3"),
    Package("maven", "log4j-core", "2.14.1", namespace="org.apache.logging.log4j", licenses=("Apache-2.0",),
            locations=(Location("app/lib/log4j-core-2.14.1.jar", L2),),
            purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
    Package("npm", "core", "7.23.2", namespace="@babel", licenses=("MIT OR Apache-2.0",), dev=True,
            locations=(Location("app/node_modules/@babel/core/package.json", L2),),
            purl="pkg:npm/%40babel/core@7.23.2"),
    # The same purl twice (two copies in different places): the bom-refs must still be unique.
    Package("pypi", "requests", "2.31.0", licenses=("Apache 2.0",),
            locations=(Location("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", L1),),
            purl="pkg:pypi/requests@2.31.0"),
    Package("pypi", "requests", "2.31.0", licenses=("Apache 2.0",),
            locations=(Location("opt/venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", L2),),
            purl="pkg:pypi/requests@2.31.0"),
    Package("rpm", "openssl-libs", "3.0.7", arch="x86_64", source_name="openssl", source_version="3.0.7-24.el9",
            epoch=1, release="24.el9", licenses=("ASL 2.0",), locations=(Location("var/lib/rpm/rpmdb.sqlite", L2),),
            purl="pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=debian-12&epoch=1"),
)

SBOM = Sbom(artifact=ARTIFACT, distro=DISTRO, packages=PACKAGES)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def normalise(text: str) -> str:
    """Blank out what changes from run to run: random UUIDs and the creation time."""
    text = _UUID.sub("00000000-0000-0000-0000-000000000000", text)
    return _TIME.sub("2000-01-01T00:00:00Z", text)


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` (normalised) with tests/fixtures/sbom/NAME, or rewrite it under CG_UPDATE_GOLDEN=1."""
    path = FIXTURES / name
    actual = normalise(text)
    if os.environ.get("CG_UPDATE_GOLDEN") == "1":
        path.write_text(actual)
        return
    assert path.exists(), f"{path} missing: run with CG_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(), f"{name} differs from its golden file (CG_UPDATE_GOLDEN=1 rewrites it)"


def load_fixture(name: str) -> dict[str, Any]:
    """A JSON fixture of tests/fixtures/sbom/."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


TRIVY_SAMPLE_LAYER = "sha256:e6b24016b863e50316be358e06317dddff603d8c443f0ebd3e81efdc97514206"
TRIVY_SAMPLE_PACKAGES = (
    Package("deb", "bash", "5.2.15-2+b2", arch="amd64", source_name="bash", source_version="5.2.15-2+b2",
            locations=(Location("", TRIVY_SAMPLE_LAYER),),
            purl="pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12.2"),
    Package("deb", "libssl3", "3.0.11-1~deb12u2", arch="amd64", source_name="openssl",
            source_version="3.0.11-1~deb12u2", locations=(Location("", TRIVY_SAMPLE_LAYER),),
            purl="pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.2"),
    Package("npm", "core", "7.23.2", namespace="@babel", licenses=("MIT",),
            locations=(Location("app/node_modules/@babel/core/package.json", TRIVY_SAMPLE_LAYER),),
            purl="pkg:npm/%40babel/core@7.23.2"),
    Package("pypi", "requests", "2.31.0", licenses=("Apache-2.0",),
            locations=(Location("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
                                TRIVY_SAMPLE_LAYER),),
            purl="pkg:pypi/requests@2.31.0"),
)
"""What Trivy 0.76's CycloneDX and SPDX documents of tests/fixtures/sbom/make_trivy_sample.py's image hold."""
