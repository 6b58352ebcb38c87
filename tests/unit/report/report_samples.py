"""A hand-built scan result (detection output, then policy) for the report format tests, and the
golden-file helper. Set ``CG_UPDATE_GOLDEN=1`` to rewrite tests/fixtures/report/ instead of comparing."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from containerguard.models.advisory import Severity
from containerguard.models.artifact import ImageMetadata, Layer, Platform
from containerguard.models.finding import Finding, MatchEvidence
from containerguard.models.report import ScanNote, ScanResult
from containerguard.models.sbom import Distro, Location, Package, Sbom
from containerguard.pipeline.ignorefile import parse_ignorefile
from containerguard.pipeline.policy import Policy, apply_policy
from containerguard.pipeline.vex import parse_vex

FIXTURES = Path(__file__).parents[2] / "fixtures" / "report"
L1 = "sha256:" + "1" * 64
L2 = "sha256:" + "2" * 64
DIGEST = "sha256:" + "d" * 64

ARTIFACT = ImageMetadata(
    name="registry.example.test:5000/team/app:1.0", source="registry",
    layers=(Layer("sha256:" + "a" * 64, L1), Layer("sha256:" + "b" * 64, L2)),
    manifest_digest=DIGEST, config_digest="sha256:" + "c" * 64,
    repo_tags=("registry.example.test:5000/team/app:1.0",), platform=Platform("linux", "amd64"))
IMAGE_PURL = ("pkg:oci/app@sha256%3A" + "d" * 64 +
              "?arch=amd64&repository_url=registry.example.test%3A5000%2Fteam%2Fapp")
DISTRO = Distro("debian", "12", pretty_name="Debian GNU/Linux 12 (bookworm)", codename="bookworm")

LIBSSL = Package("deb", "libssl3", "3.0.11-1~deb12u1", arch="amd64", source_name="openssl",
                 source_version="3.0.11-1~deb12u1", locations=(Location("var/lib/dpkg/status", L1),),
                 purl="pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12")
LOGIN = Package("deb", "login", "1:4.13+dfsg1-1", arch="amd64", source_name="shadow",
                source_version="1:4.13+dfsg1-1", locations=(Location("var/lib/dpkg/status", L1),),
                purl="pkg:deb/debian/login@1:4.13%2Bdfsg1-1?arch=amd64&distro=debian-12")
DJANGO = Package("pypi", "Django", "3.2.0",
                 locations=(Location("usr/lib/python3/site-packages/Django-3.2.0.dist-info/METADATA", L2),),
                 purl="pkg:pypi/django@3.2.0")
LODASH = Package("npm", "lodash", "4.17.4", locations=(Location("app/node_modules/lodash/package.json", L2),),
                 purl="pkg:npm/lodash@4.17.4")
SBOM = Sbom(artifact=ARTIFACT, distro=DISTRO, packages=(LIBSSL, LOGIN, LODASH, DJANGO))

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H"


def _evidence(record: str, ecosystem: str, package: str, version: str, rng: str,
              field: str = "version") -> tuple[MatchEvidence, ...]:
    return (MatchEvidence(record, ecosystem, package, version, field, rng),)


FINDINGS = (
    Finding("CVE-2023-5678", ("DSA-5532-1",), LIBSSL, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "fixed",
            Severity("MEDIUM", "cvss_v3", 5.3, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L"),
            (Severity("MEDIUM", "cvss_v3", 5.3, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L"),
             Severity("LOW", "debian-urgency")),
            title="openssl: excessive time spent in DH check", description="Generating excessively long X9.42 DH "
            "keys or checking them may be very slow.",
            references=("https://www.openssl.org/news/secadv/20231106.txt",), published="2023-11-06T16:15:42Z",
            modified="2024-05-01T00:00:00Z", category="OS",
            evidence=_evidence("CVE-2023-5678", "Debian:12", "openssl", "3.0.11-1~deb12u1",
                               "ECOSYSTEM [0, 3.0.11-1~deb12u2)", "source_version")),
    Finding("CVE-2023-6129", (), LIBSSL, "3.0.11-1~deb12u1", "", "not-fixed",
            Severity("MEDIUM", "cvss_v3", 6.5, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"),
            title="openssl: POLY1305 MAC corrupts vector registers on PowerPC", category="OS",
            evidence=_evidence("CVE-2023-6129", "Debian:12", "openssl", "3.0.11-1~deb12u1", "ECOSYSTEM [0, ∞)",
                               "source_version")),
    Finding("CVE-2007-5686", (), LOGIN, "1:4.13+dfsg1-1", "", "will-not-fix", Severity("NEGLIGIBLE", "debian-urgency"),
            title="rpath in shadow is world-writable", category="OS",
            evidence=_evidence("CVE-2007-5686", "Debian:12", "shadow", "1:4.13+dfsg1-1", "ECOSYSTEM [0, ∞)",
                               "source_version")),
    Finding("CVE-2021-33203", ("GHSA-68w8-qjq3-2gfm", "PYSEC-2021-98"), DJANGO, "3.2.0", "3.2.4", "fixed",
            Severity("MEDIUM", "cvss_v3", 4.9, "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:N/A:N"),
            (Severity("MEDIUM", "cvss_v3", 4.9, "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:N/A:N"),
             Severity("MEDIUM", "ghsa")),
            title="Potential directory traversal via admindocs", references=(
                "https://nvd.nist.gov/vuln/detail/CVE-2021-33203", "https://github.com/django/django"),
            published="2021-06-08T18:15:00Z", category="Language",
            evidence=_evidence("GHSA-68w8-qjq3-2gfm", "PyPI", "django", "3.2.0", "ECOSYSTEM [3.2, 3.2.4)")),
    Finding("CVE-2019-10744", ("GHSA-jf85-cpcp-j695",), LODASH, "4.17.4", "4.17.12", "fixed",
            Severity("CRITICAL", "cvss_v3", 9.1, V31), (Severity("CRITICAL", "cvss_v3", 9.1, V31),),
            title="Prototype Pollution in lodash", references=("https://github.com/lodash/lodash/pull/4336",),
            category="Language", evidence=_evidence("GHSA-jf85-cpcp-j695", "npm", "lodash", "4.17.4",
                                                    "SEMVER [0, 4.17.12)")),
    Finding("GHSA-aaaa-bbbb-cccc", (), LODASH, "4.17.4", "4.17.21", "fixed",
            Severity("HIGH", "cvss_v4", 8.7, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"),
            title="A made-up CVSS v4 advisory", category="Language",
            evidence=_evidence("GHSA-aaaa-bbbb-cccc", "npm", "lodash", "4.17.4", "SEMVER [0, 4.17.21)")),
    Finding("CVE-2020-28500", ("GHSA-29mw-wpgm-hmr9",), LODASH, "4.17.4", "4.17.21", "fixed",
            Severity("UNKNOWN", "ghsa"), title="ReDoS in lodash", category="Language",
            evidence=_evidence("GHSA-29mw-wpgm-hmr9", "npm", "lodash", "4.17.4", "SEMVER [4.0.0, 4.17.21)")),
)
DETECTED = ScanResult(sbom=SBOM, findings=FINDINGS, notes=(ScanNote("golang", "no advisory data for Go"),),
                      db_summary="schema 1, built 2026-11-28T00:00:00Z, sources: osv")

IGNOREFILE = "# accepted risk\nCVE-2023-6129 exp:2099-01-01\n"
VEX = {
    "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/1", "author": "team",
    "timestamp": "2026-01-01T00:00:00Z", "version": 1,
    "statements": [{"vulnerability": {"name": "CVE-2021-33203"}, "products": [{"@id": "pkg:pypi/django"}],
                    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}],
}
POLICY = Policy(severities=frozenset({"CRITICAL", "HIGH", "MEDIUM", "UNKNOWN"}),
                ignore_rules=parse_ignorefile(IGNOREFILE, ".containerguardignore"),
                vex=parse_vex(VEX, "app.vex.json"), today=date(2026, 11, 28))
RESULT = apply_policy(DETECTED, POLICY)
"""After policy: the NEGLIGIBLE finding filtered, one ignored, one not_affected by VEX; four remain."""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\"timestamp\": \"[^\"]+\"")


def normalise(text: str) -> str:
    """Blank out what changes from run to run: random UUIDs and the document's creation time."""
    return _TIME.sub('"timestamp": "2000-01-01T00:00:00Z"', _UUID.sub("00000000-0000-0000-0000-000000000000", text))


def check_golden(name: str, text: str) -> None:
    """Compare with (or, with CG_UPDATE_GOLDEN=1, rewrite) tests/fixtures/report/NAME."""
    path = FIXTURES / name
    if os.environ.get("CG_UPDATE_GOLDEN") == "1":
        path.write_text(text)
        return
    assert path.is_file(), f"missing golden file {path}: run with CG_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} differs from its golden file (CG_UPDATE_GOLDEN=1 rewrites it)"
