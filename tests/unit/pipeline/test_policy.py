"""Policy: severity filter, --ignore-unfixed, the ignore file (both forms, expiry), OpenVEX, health."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from containerguard.errors import ConfigError, PolicyError
from containerguard.models.advisory import Severity
from containerguard.models.artifact import ImageMetadata
from containerguard.models.finding import Finding
from containerguard.models.report import ScanResult
from containerguard.models.sbom import Location, Package, Sbom
from containerguard.pipeline.ignorefile import load_ignorefile, parse_ignorefile
from containerguard.pipeline.policy import Policy, apply_policy, find_ignorefile, parse_severities, severity_counts
from containerguard.pipeline.purlmatch import purl_matches
from containerguard.pipeline.suppression import Suppression, parse_suppression
from containerguard.pipeline.vex import load_vex, parse_vex

TODAY = date(2026, 6, 1)
DIGEST = "sha256:" + "d" * 64
IMAGE = ImageMetadata(name="registry.test/team/app:1", source="registry", layers=(), manifest_digest=DIGEST)
IMAGE_PURL = f"pkg:oci/app@sha256%3A{'d' * 64}?repository_url=registry.test%2Fteam%2Fapp"

SSL = Package("deb", "libssl3", "3.0.11-1", source_name="openssl", source_version="3.0.11-1",
              locations=(Location("var/lib/dpkg/status"),),
              purl="pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12")
DJANGO = Package("pypi", "Django", "3.2.0",
                 locations=(Location("usr/lib/python3/site-packages/Django-3.2.0.dist-info/METADATA"),),
                 purl="pkg:pypi/django@3.2.0")
LODASH = Package("npm", "lodash", "4.17.4", locations=(Location("app/node_modules/lodash/package.json"),),
                 purl="pkg:npm/lodash@4.17.4")


def finding(vuln_id: str, package: Package, level: str = "HIGH", fixed: str = "9.9", state: str = "fixed",
            aliases: tuple[str, ...] = ()) -> Finding:
    return Finding(vuln_id, aliases, package, package.version, fixed, state, Severity(level, "cvss_v3"))


F_SSL = finding("CVE-2023-5678", SSL, "MEDIUM", aliases=("DSA-5532-1",))
F_SSL_UNFIXED = finding("CVE-2023-6129", SSL, "LOW", fixed="", state="not-fixed")
F_DJANGO = finding("CVE-2021-33203", DJANGO, "MEDIUM", aliases=("GHSA-68w8-qjq3-2gfm", "PYSEC-2021-98"))
F_LODASH = finding("CVE-2019-10744", LODASH, "CRITICAL", aliases=("GHSA-jf85-cpcp-j695",))
F_WONTFIX = finding("CVE-2007-5686", SSL, "NEGLIGIBLE", fixed="", state="will-not-fix")
F_ODD = finding("CVE-2024-0001", LODASH, "UNKNOWN", fixed="", state="fixed")  # fixed, but no version known
ALL = (F_SSL, F_SSL_UNFIXED, F_DJANGO, F_LODASH, F_WONTFIX, F_ODD)
RESULT = ScanResult(sbom=Sbom(IMAGE, None, (SSL, DJANGO, LODASH)), findings=ALL)


def run(policy: Policy, result: ScanResult = RESULT) -> tuple[set[str], dict[str, str]]:
    out = apply_policy(result, policy)
    assert len(out.findings) + len(out.suppressed) == len(result.findings)
    assert all(not f.suppressed_by for f in out.findings)
    return {f.id for f in out.findings}, {f.id: f.suppressed_by for f in out.suppressed}


# --- filters ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("severities", "ignore_unfixed", "kept"), [
    ("CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN", False, {f.id for f in ALL}),
    ("CRITICAL", False, {"CVE-2019-10744"}),
    ("critical, medium", False, {"CVE-2019-10744", "CVE-2023-5678", "CVE-2021-33203"}),
    ("LOW,NEGLIGIBLE,UNKNOWN", False, {"CVE-2023-6129", "CVE-2007-5686", "CVE-2024-0001"}),
    ("CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN", True, {"CVE-2023-5678", "CVE-2021-33203", "CVE-2019-10744"}),
    ("LOW,CRITICAL", True, {"CVE-2019-10744"}),
])
def test_severity_and_unfixed_filters(severities: str, ignore_unfixed: bool, kept: set[str]) -> None:
    got, suppressed = run(Policy(parse_severities(severities), ignore_unfixed, today=TODAY))
    assert got == kept
    for vuln_id, why in suppressed.items():
        f = next(f for f in ALL if f.id == vuln_id)
        expect = "filter:severity" if f.severity.level not in parse_severities(severities) else "filter:ignore-unfixed"
        assert why == expect


@pytest.mark.parametrize("text", ["", " , ", "HIGH,SEVERE", "urgent"])
def test_bad_severity_list(text: str) -> None:
    with pytest.raises(ConfigError, match="--severity"):
        parse_severities(text)


# --- ignore file ------------------------------------------------------------------------------------

PLAIN = """\
# accepted risks
CVE-2023-5678
ghsa-68w8-qjq3-2gfm   exp:2026-06-02   # alias, lower case, not yet expired
CVE-2019-10744 exp:2026-06-01
CVE-2023-6129 pkg:npm/lodash
CVE-2007-5686 package:openssl
CVE-2024-0001 pkg:npm/lodash@4.17.4 package:lodash
"""


def test_plain_ignorefile() -> None:
    rules = parse_ignorefile(PLAIN, ".containerguardignore")
    assert [r.source for r in rules] == [f".containerguardignore:{n}" for n in (2, 3, 4, 5, 6, 7)]
    out = apply_policy(RESULT, Policy(ignore_rules=rules, today=TODAY))
    got = {f.id: f.suppressed_by for f in out.suppressed}
    assert got == {
        "CVE-2023-5678": "ignorefile:.containerguardignore:2",
        "CVE-2021-33203": "ignorefile:.containerguardignore:3",
        "CVE-2007-5686": "ignorefile:.containerguardignore:6",  # by source package name
        "CVE-2024-0001": "ignorefile:.containerguardignore:7",
    }
    # Expired on the day of its date (CVE-2019-10744) and a purl that names another package
    # (CVE-2023-6129 is in libssl3): both kept; the expired entry is reported.
    assert {f.id for f in out.findings} == {"CVE-2019-10744", "CVE-2023-6129"}
    assert [n.subject for n in out.notes] == ["ignore entry CVE-2019-10744 (.containerguardignore:4)"]
    assert "expired on 2026-06-01" in out.notes[0].reason


YAML = """\
vulnerabilities:
  - id: CVE-2023-5678
    purls: ["pkg:deb/debian/libssl3"]
    statement: DH checks are not reachable
  - id: CVE-2021-33203
    paths: ["usr/lib/python3/site-packages/*"]
    expired_at: 2026-12-31
  - id: CVE-2019-10744
    paths: ["opt/**"]
  - id: CVE-2023-6129
    expired_at: 2026-01-01
  - id: GHSA-jf85-cpcp-j695
    package: left-pad
misconfigurations:
  - id: AVD-DS-0002
"""


def test_yaml_ignorefile() -> None:
    rules = parse_ignorefile(YAML, "policy/.containerguardignore.yaml")
    out = apply_policy(RESULT, Policy(ignore_rules=rules, today=TODAY))
    assert {f.id: f.suppressed_by for f in out.suppressed} == {
        "CVE-2023-5678": "ignorefile:policy/.containerguardignore.yaml:2 (DH checks are not reachable)",
        "CVE-2021-33203": "ignorefile:policy/.containerguardignore.yaml:5",
    }
    assert [n.subject for n in out.notes] == ["ignore entry CVE-2023-6129 (policy/.containerguardignore.yaml:10)"]


def test_yaml_detected_without_extension_and_file_lookup(tmp_path: Path) -> None:
    assert find_ignorefile(tmp_path) is None
    (tmp_path / ".containerguardignore.yaml").write_text(YAML)
    assert find_ignorefile(tmp_path) == tmp_path / ".containerguardignore.yaml"
    (tmp_path / ".containerguardignore").write_text("# comment\n\n" + YAML)
    found = find_ignorefile(tmp_path)
    assert found == tmp_path / ".containerguardignore"
    assert [r.id for r in load_ignorefile(found)][:2] == ["CVE-2023-5678", "CVE-2021-33203"]
    assert parse_ignorefile("", ".containerguardignore") == ()
    assert parse_ignorefile("# nothing\n", "x.yaml") == ()


@pytest.mark.parametrize(("name", "text", "message"), [
    (".containerguardignore", "CVE-1 exp:2026-13-01\n", r"\.containerguardignore:1: bad expiry date"),
    (".containerguardignore", "\nCVE-1 until:2026\n", r":2: unknown option 'until:2026'"),
    (".containerguardignore", "CVE-1 pkg:\n", r":1: 'pkg:' is not a valid package URL"),
    ("x.yaml", "vulnerabilities: [\n", "not valid YAML"),
    ("x.yaml", "- CVE-1\n", "expected a mapping"),
    ("x.yaml", "vulnerability:\n  - id: CVE-1\n", "unknown section"),
    ("x.yaml", "vulnerabilities:\n  - id: CVE-1\n    expires: 2026-01-01\n", r"x.yaml:2: unknown key\(s\) expires"),
    ("x.yaml", "vulnerabilities:\n  - package: x\n", "'id' is required"),
    ("x.yaml", "vulnerabilities:\n  - id: CVE-1\n    purls: pkg:npm/x\n", "'purls' must be a list"),
    ("x.yaml", "vulnerabilities:\n  - id: CVE-1\n    expired_at: soon\n", "bad expiry date"),
    ("x.yaml", "vulnerabilities:\n  - CVE-1\n", "must be a mapping"),
])
def test_malformed_ignorefile(name: str, text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_ignorefile(text, name)


def test_unreadable_ignorefile(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read ignore file"):
        load_ignorefile(tmp_path / "missing")


# --- OpenVEX ----------------------------------------------------------------------------------------

def vex_doc(*statements: dict[str, Any], timestamp: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex", "author": "t",
            "timestamp": timestamp, "version": 1, "statements": list(statements)}


def stmt(name: str, products: list[Any], status: str = "not_affected", **extra: Any) -> dict[str, Any]:
    if status == "not_affected" and "justification" not in extra and "impact_statement" not in extra:
        extra["justification"] = "vulnerable_code_not_present"
    return {"vulnerability": {"name": name, **extra.pop("vuln", {})}, "products": products, "status": status,
            **extra}


NOT_PRESENT = "vex:not_affected (vulnerable_code_not_present) by app.vex.json"


@pytest.mark.parametrize(("statements", "suppressed"), [
    # Product = the package, purl without version or qualifiers.
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}])], {"CVE-2023-5678": NOT_PRESENT}),
    # identifiers.purl, exact version.
    ([stmt("CVE-2021-33203", [{"@id": "urn:x", "identifiers": {"purl": "pkg:pypi/django@3.2.0"}}])],
     {"CVE-2021-33203": NOT_PRESENT}),
    # fixed suppresses, no justification needed; PyPI names compare normalised.
    ([stmt("CVE-2021-33203", [{"@id": "pkg:pypi/DJANGO"}], "fixed")], {"CVE-2021-33203": "vex:fixed by app.vex.json"}),
    # affected and under_investigation never suppress.
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], "affected")], {}),
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], "under_investigation")], {}),
    # The statement names an alias of the finding; or lists the finding's id among its aliases.
    ([stmt("GHSA-jf85-cpcp-j695", [{"@id": "pkg:npm/lodash@4.17.4"}])], {"CVE-2019-10744": NOT_PRESENT}),
    ([stmt("SNYK-1", [{"@id": "pkg:npm/lodash"}], vuln={"aliases": ["cve-2019-10744"]})],
     {"CVE-2019-10744": NOT_PRESENT}),
    # Another version, or a qualifier the package does not have: no match.
    ([stmt("CVE-2019-10744", [{"@id": "pkg:npm/lodash@4.17.21"}])], {}),
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3?arch=arm64"}])], {}),
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3?arch=amd64"}])], {"CVE-2023-5678": NOT_PRESENT}),
    # The image as product with the package as subcomponent; the image alone (whole image);
    # the image with another subcomponent (no match).
    ([stmt("CVE-2019-10744", [{"@id": "pkg:oci/app?repository_url=registry.test/team/app",
                               "subcomponents": [{"@id": "pkg:npm/lodash"}]}])], {"CVE-2019-10744": NOT_PRESENT}),
    ([stmt("CVE-2019-10744", [{"@id": IMAGE_PURL}], impact_statement="not shipped")],
     {"CVE-2019-10744": "vex:not_affected by app.vex.json"}),
    ([stmt("CVE-2019-10744", [{"@id": IMAGE_PURL, "subcomponents": [{"@id": "pkg:npm/underscore"}]}])], {}),
    ([stmt("CVE-2019-10744", [{"@id": "pkg:oci/other"}])], {}),
    # The later statement wins: not_affected then affected keeps the finding; and the reverse.
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], timestamp="2026-02-01T00:00:00Z"),
      stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], "affected", timestamp="2026-03-01T00:00:00+00:00")],
     {}),
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], "under_investigation",
           timestamp="2026-02-01T00:00:00Z"),
      stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], "fixed")], {}),  # doc time is older
    ([stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}], "affected"),
      stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}])], {"CVE-2023-5678": NOT_PRESENT}),  # order
])
def test_vex(statements: list[dict[str, Any]], suppressed: dict[str, str]) -> None:
    policy = Policy(vex=parse_vex(vex_doc(*statements), "app.vex.json"), today=TODAY)
    assert run(policy)[1] == suppressed


def test_vex_v001_string_forms_and_files(tmp_path: Path) -> None:
    doc = {"@context": "https://openvex.dev/ns", "@id": "x", "author": "a", "timestamp": "2023-01-01T00:00:00Z",
           "statements": [{"vulnerability": "CVE-2021-33203", "products": [IMAGE_PURL],
                           "subcomponents": ["pkg:pypi/django@3.2.0"], "status": "not_affected",
                           "justification": "component_not_present"}]}
    later = vex_doc(stmt("CVE-2021-33203", [{"@id": "pkg:pypi/django"}], "affected"))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(doc))
    second.write_text(json.dumps(later))
    assert run(Policy(vex=load_vex([first]), today=TODAY))[1] == {
        "CVE-2021-33203": f"vex:not_affected (component_not_present) by {first}"}
    assert run(Policy(vex=load_vex([first, second]), today=TODAY))[1] == {}


@pytest.mark.parametrize(("document", "message"), [
    ([], "not an OpenVEX document"),
    ({"@context": "https://example.test", "statements": []}, "@context"),
    (vex_doc() | {"statements": {}}, "'statements' must be a list"),
    (vex_doc(stmt("CVE-1", [{"@id": "pkg:npm/x"}], "maybe")), "status 'maybe'"),
    (vex_doc({"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:npm/x"}], "status": "not_affected"}),
     "needs a justification"),
    (vex_doc(stmt("CVE-1", [{"@id": "pkg:npm/x"}], justification="because")), "unknown justification"),
    (vex_doc(stmt("CVE-1", [])), "at least one product"),
    (vex_doc(stmt("CVE-1", [{"hashes": {}}])), "needs an @id"),
    (vex_doc({"vulnerability": {"aliases": ["CVE-1"]}, "products": ["pkg:npm/x"], "status": "fixed"}),
     "vulnerability.name is required"),
    (vex_doc(stmt("CVE-1", ["pkg:npm/x"], "fixed", timestamp="yesterday")), "statement 1: bad timestamp"),
    (vex_doc(timestamp="2026-99-01"), "document: bad timestamp"),
])
def test_malformed_vex(document: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_vex(document, "bad.json")


def test_vex_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(PolicyError, match="is not JSON"):
        load_vex([bad])
    with pytest.raises(PolicyError, match="cannot read VEX document"):
        load_vex([tmp_path / "missing.json"])


# --- order, health, counts --------------------------------------------------------------------------

def test_steps_apply_in_order() -> None:
    rules = parse_ignorefile("CVE-2023-6129\nCVE-2019-10744\n", "i")
    vex = parse_vex(vex_doc(stmt("CVE-2019-10744", [{"@id": "pkg:npm/lodash"}]),
                            stmt("CVE-2023-5678", [{"@id": "pkg:deb/debian/libssl3"}])), "v.json")
    policy = Policy(parse_severities("CRITICAL,MEDIUM,LOW"), True, rules, vex, TODAY)
    kept, suppressed = run(policy)
    assert kept == {"CVE-2021-33203"}
    assert suppressed == {"CVE-2023-6129": "filter:ignore-unfixed",  # the filter came first
                          "CVE-2019-10744": "ignorefile:i:2",  # the ignore file before VEX
                          "CVE-2023-5678": "vex:not_affected (vulnerable_code_not_present) by v.json",
                          "CVE-2007-5686": "filter:severity", "CVE-2024-0001": "filter:severity"}


@pytest.mark.parametrize(("packages", "findings", "policy", "health"), [
    ((SSL,), (F_SSL,), Policy(today=TODAY), "Unhealthy"),
    ((SSL,), (), Policy(today=TODAY), "Healthy"),
    ((SSL,), (F_SSL,), Policy(frozenset({"CRITICAL"}), today=TODAY), "Healthy"),
    ((), (), Policy(today=TODAY), "NotApplicable"),
])
def test_health(packages: tuple[Package, ...], findings: tuple[Finding, ...], policy: Policy, health: str) -> None:
    result = ScanResult(sbom=Sbom(IMAGE, None, packages), findings=findings)
    assert apply_policy(result, policy).health == health


def test_policy_keeps_earlier_suppressions_and_notes() -> None:
    earlier = replace(F_SSL, suppressed_by="vex:fixed by old.json")
    result = replace(RESULT, suppressed=(earlier,))
    out = apply_policy(result, Policy(today=TODAY))
    assert out.suppressed == (earlier,) and len(out.findings) == len(ALL)


def test_severity_counts() -> None:
    odd = replace(F_SSL, severity=Severity("SEVERE", "x"))
    assert severity_counts((*ALL, odd)) == {"CRITICAL": 1, "HIGH": 0, "MEDIUM": 2, "LOW": 1, "NEGLIGIBLE": 1,
                                            "UNKNOWN": 2}
    assert list(severity_counts(())) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN"]


@pytest.mark.parametrize("why", [
    Suppression("filter", "severity"), Suppression("filter", "ignore-unfixed"),
    Suppression("ignorefile", source="dir with space/.containerguardignore:12"),
    Suppression("ignorefile", source="a.yaml:3", statement="risk (accepted) by us"),
    Suppression("vex", "not_affected", "v.json", "inline_mitigations_already_exist"),
    Suppression("vex", "fixed", "some dir/v by x.json"),
])
def test_suppression_text_round_trip(why: Suppression) -> None:
    assert parse_suppression(str(why)) == why


@pytest.mark.parametrize(("pattern", "candidate", "match"), [
    ("pkg:npm/lodash", "pkg:npm/lodash@4.17.4", True),
    ("pkg:npm/lodash@4.17.4", "pkg:npm/lodash@4.17.4", True),
    ("pkg:npm/lodash@4.17.5", "pkg:npm/lodash@4.17.4", False),
    ("pkg:npm/%40babel/core", "pkg:npm/%40babel/core@7.0.0", True),
    ("pkg:npm/core", "pkg:npm/%40babel/core@7.0.0", False),
    ("pkg:pypi/Django_Rest.framework", "pkg:pypi/django-rest-framework@3.0", True),
    ("pkg:deb/debian/libssl3?distro=debian-12", "pkg:deb/debian/libssl3@1?arch=amd64&distro=debian-12", True),
    ("pkg:deb/debian/libssl3?distro=debian-11", "pkg:deb/debian/libssl3@1?arch=amd64&distro=debian-12", False),
    ("pkg:deb/ubuntu/libssl3", "pkg:deb/debian/libssl3@1", False),
    ("not a purl", "pkg:npm/x@1", False),
    ("pkg:npm/x", "", False),
])
def test_purl_matches(pattern: str, candidate: str, match: bool) -> None:
    assert purl_matches(pattern, candidate) is match
