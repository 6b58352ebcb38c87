"""Matchers: ecosystem keys, distro scoping, source-package lookups, merging and scan notes."""

from __future__ import annotations

import pytest
from matchfakes import DEBIAN_11, DEBIAN_12, FakeStore, advisory, affected, fake_schemes, rng, sbom

from containerguard.matchers.base import MatchContext, all_matchers
from containerguard.matchers.ecosystems import distro_candidates, language_name, resolve_os
from containerguard.matchers.language import LanguageMatcher
from containerguard.matchers.os_distro import OsDistroMatcher
from containerguard.models.advisory import Severity
from containerguard.models.sbom import Distro, Package
from containerguard.pipeline.scan import match_sbom

__all__ = ["fake_schemes"]  # the fixture is used by name

FIX = (("introduced", "0"), ("fixed", "2.0"))


def deb(name: str, version: str, source: str = "", source_version: str = "") -> Package:
    return Package(type="deb", name=name, version=version, source_name=source, source_version=source_version)


@pytest.mark.parametrize(("distro", "keys"), [
    (Distro("debian", "12"), ("Debian:12",)),
    (Distro("debian", "12", distroless=True), ("Debian:12",)),
    (Distro("debian", "11.7"), ("Debian:11",)),
    (Distro("ubuntu", "22.04"), ("Ubuntu:22.04:LTS", "Ubuntu:22.04")),
    (Distro("ubuntu", "24.04"), ("Ubuntu:24.04:LTS", "Ubuntu:24.04")),
    (Distro("ubuntu", "23.04"), ("Ubuntu:23.04",)),
    (Distro("ubuntu", "22.10"), ("Ubuntu:22.10",)),
    (Distro("alpine", "3.18.4"), ("Alpine:v3.18",)),
    (Distro("alpine", "3.20.0_alpha20240329"), ("Alpine:v3.20",)),
    (Distro("wolfi", "20230201"), ("Wolfi",)),
    (Distro("chainguard", ""), ("Chainguard",)),
    (Distro("rocky", "9.3"), ("Rocky Linux:9",)),
    (Distro("almalinux", "8.9"), ("AlmaLinux:8",)),
    (Distro("opensuse-leap", "15.5"), ("openSUSE:Leap 15.5",)),
])
def test_distro_keys(distro: Distro, keys: tuple[str, ...]) -> None:
    assert distro_candidates(distro)[0] == keys


@pytest.mark.parametrize("distro", [Distro("amzn", "2023"), Distro("debian", ""), Distro("centos", "7")])
def test_unsupported_distros_say_why(distro: Distro) -> None:
    assert resolve_os(distro, frozenset({"Debian:12"})).unsupported


def test_red_hat_streams_and_suse_products_come_from_the_database() -> None:
    available = frozenset({"Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9::appstream",
                           "Red Hat:enterprise_linux:8::baseos", "Red Hat:rhel_eus:9.2::baseos",
                           "SUSE:Linux Enterprise Server 15 SP5", "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
                           "SUSE:Linux Enterprise Server 15 SP4"})
    assert resolve_os(Distro("rhel", "9.3"), available).keys == (
        "Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos")
    sles = Distro("sles", "15.5", pretty_name="SUSE Linux Enterprise Server 15 SP5")
    assert resolve_os(sles, available).keys == (
        "SUSE:Linux Enterprise Module for Basesystem 15 SP5", "SUSE:Linux Enterprise Server 15 SP5")


@pytest.mark.parametrize(("package", "name"), [
    (Package(type="maven", namespace="org.apache.logging.log4j", name="log4j-core", version="2.14.1"),
     "org.apache.logging.log4j:log4j-core"),
    (Package(type="npm", namespace="@babel", name="traverse", version="7.0.0"), "@babel/traverse"),
    (Package(type="npm", name="lodash", version="4.17.4"), "lodash"),
    (Package(type="golang", namespace="golang.org/x", name="net", version="v0.1.0"), "golang.org/x/net"),
    (Package(type="golang", name="stdlib", version="v1.19.8"), "stdlib"),
    (Package(type="composer", namespace="symfony", name="http-kernel", version="5.0.0"), "symfony/http-kernel"),
    (Package(type="pypi", name="Django", version="3.2.0"), "Django"),
])
def test_language_names(package: Package, name: str) -> None:
    assert language_name(package) == name


@pytest.mark.usefixtures("fake_schemes")
def test_distro_scoping_debian_11_record_never_matches_debian_12() -> None:
    store = FakeStore([advisory("CVE-2024-1", affected("Debian:11", "zlib", rng(*FIX)))],
                      extra_ecosystems=("Debian:12",))
    assert OsDistroMatcher().match(deb("zlib1g", "1.0", "zlib", "1.0"), DEBIAN_12, store) == []
    found = OsDistroMatcher().match(deb("zlib1g", "1.0", "zlib", "1.0"), DEBIAN_11, store)
    assert [f.id for f in found] == ["CVE-2024-1"]


@pytest.mark.usefixtures("fake_schemes")
def test_binary_matched_by_source_name_and_source_version() -> None:
    store = FakeStore([advisory("DEBIAN-CVE-2024-0002", affected("Debian:12", "openssl", rng(("introduced", "0"),
                                                                                          ("fixed", "3.0.11-1"))))])
    pkg = deb("libssl3", "3.0.9-1+1", "openssl", "3.0.9-1")
    [finding] = OsDistroMatcher().match(pkg, DEBIAN_12, store)
    assert (finding.id, finding.aliases, finding.fixed_version, finding.fix_state, finding.category) == (
        "CVE-2024-0002", ("DEBIAN-CVE-2024-0002",), "3.0.11-1", "fixed", "OS")
    [ev] = finding.evidence
    assert (ev.record, ev.ecosystem, ev.package, ev.version, ev.version_field, ev.range) == (
        "DEBIAN-CVE-2024-0002", "Debian:12", "openssl", "3.0.9-1", "source_version", "ECOSYSTEM [0, 3.0.11-1)")
    assert store.lookups == [("Debian:12", "openssl")]
    # At the fix (by source version) nothing is reported, whatever the binary's own version says.
    assert OsDistroMatcher().match(deb("libssl3", "3.0.1", "openssl", "3.0.11-1"), DEBIAN_12, store) == []


@pytest.mark.usefixtures("fake_schemes")
def test_binary_name_without_source() -> None:
    store = FakeStore([advisory("CVE-2024-3", affected("Debian:12", "bash", rng(*FIX)))])
    [finding] = OsDistroMatcher().match(deb("bash", "1.5"), DEBIAN_12, store)
    assert finding.evidence[0].version_field == "version"


@pytest.mark.usefixtures("fake_schemes")
def test_ubuntu_lts_queries_both_spellings_and_merges() -> None:
    store = FakeStore([
        advisory("UBUNTU-CVE-2023-4911", affected("Ubuntu:22.04:LTS", "glibc", rng(*FIX))),
        advisory("OTHER-1", affected("Ubuntu:22.04", "glibc", rng(*FIX)), aliases=("CVE-2023-4911",)),
    ])
    [finding] = OsDistroMatcher().match(deb("libc6", "1.0", "glibc", "1.0"), Distro("ubuntu", "22.04"), store)
    assert finding.id == "CVE-2023-4911"
    assert finding.aliases == ("OTHER-1", "UBUNTU-CVE-2023-4911")
    assert {e.ecosystem for e in finding.evidence} == {"Ubuntu:22.04:LTS", "Ubuntu:22.04"}


@pytest.mark.usefixtures("fake_schemes")
def test_alpine_origin_and_rpm_both_names() -> None:
    store = FakeStore([
        advisory("ALPINE-CVE-2023-0005", affected("Alpine:v3.18", "openssl", rng(*FIX))),
        advisory("RHSA-2024:1", affected("Red Hat:enterprise_linux:9::baseos", "openssl-libs", rng(*FIX)),
                 upstream=("CVE-2024-0007",)),
        advisory("RHSA-2024:1", affected("Red Hat:enterprise_linux:9::baseos", "openssl", rng(*FIX)),
                 upstream=("CVE-2024-0007",)),
    ])
    apk = Package(type="apk", name="libcrypto3", version="1.5", source_name="openssl", source_version="1.5")
    [a] = OsDistroMatcher().match(apk, Distro("alpine", "3.18.4"), store)
    assert (a.id, a.evidence[0].package) == ("CVE-2023-0005", "openssl")
    rpm = Package(type="rpm", name="openssl-libs", version="1.5", release="3", epoch=1, source_name="openssl",
                  source_version="1.5-3")
    [r] = OsDistroMatcher().match(rpm, Distro("rhel", "9.3"), store)
    # The record is found under the binary and the source name but counts once.
    assert (r.id, r.installed_version, len(r.evidence)) == ("CVE-2024-0007", "1:1.5-3", 1)


@pytest.mark.usefixtures("fake_schemes")
def test_merging_aliases_fixed_version_and_severity() -> None:
    v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    store = FakeStore([
        advisory("PYSEC-2021-1", affected("PyPI", "django", rng(("introduced", "3.2"), ("fixed", "3.2.4"))),
                 aliases=("CVE-2021-33203", "GHSA-68w8-qjq3-2gfm")),
        advisory("GHSA-68w8-qjq3-2gfm", affected("PyPI", "django", rng(("introduced", "3.2"), ("fixed", "3.2.5"))),
                 aliases=("CVE-2021-33203",),
                 severity=(Severity("MEDIUM", "ghsa", vector="MODERATE"), Severity("UNKNOWN", "cvss_v3", vector=v31))),
        advisory("PYSEC-2021-2", affected("PyPI", "django", rng(("introduced", "0"), ("last_affected", "3.2.0"))),
                 severity=(Severity("HIGH", "ghsa", vector="HIGH"),)),
    ])
    found = LanguageMatcher().match(Package(type="pypi", name="django", version="3.2.0"), None, store)
    by_id = {f.id: f for f in found}
    assert sorted(by_id) == ["CVE-2021-33203", "PYSEC-2021-2"]
    merged = by_id["CVE-2021-33203"]
    assert merged.aliases == ("GHSA-68w8-qjq3-2gfm", "PYSEC-2021-1")
    assert [e.record for e in merged.evidence] == ["PYSEC-2021-1", "GHSA-68w8-qjq3-2gfm"]
    assert (merged.fixed_version, merged.fix_state) == ("3.2.5", "fixed")  # highest fix across records
    assert (merged.severity.level, merged.severity.source, merged.severity.score) == ("CRITICAL", "cvss_v3", 9.8)
    assert {(s.source, s.level) for s in merged.severities} == {("ghsa", "MEDIUM"), ("cvss_v3", "CRITICAL")}
    lone = by_id["PYSEC-2021-2"]
    assert (lone.fixed_version, lone.fix_state, lone.severity.level, lone.category) == ("", "not-fixed", "HIGH",
                                                                                        "Language")


@pytest.mark.usefixtures("fake_schemes")
def test_debian_changelog_upstream_and_notices() -> None:
    store = FakeStore([
        advisory("DEBIAN-CHANGELOG-CVE-2023-38545", affected("Debian:12", "curl", rng(*FIX)),
                 upstream=("CVE-2023-38545",)),
        advisory("DSA-5587-1", affected("Debian:12", "curl", rng(*FIX)),
                 upstream=("CVE-2023-38545", "CVE-2023-38546")),
        advisory("DSA-9999-1", affected("Debian:12", "curl", rng(*FIX)), upstream=("CVE-2020-1", "CVE-2020-2")),
    ])
    found = OsDistroMatcher().match(deb("libcurl4", "1.0", "curl", "1.0"), DEBIAN_12, store)
    by_id = {f.id: f for f in found}
    # The DSA joins the CVE finding it names; a notice none of whose CVEs matched stands alone.
    assert sorted(by_id) == ["CVE-2023-38545", "DSA-9999-1"]
    assert by_id["CVE-2023-38545"].aliases == ("DEBIAN-CHANGELOG-CVE-2023-38545", "DSA-5587-1")


@pytest.mark.usefixtures("fake_schemes")
def test_fix_states_and_not_affected() -> None:
    store = FakeStore([
        advisory("CVE-2024-10", affected("Debian:12", "systemd", rng(("introduced", "0")), fix_state="will-not-fix")),
        advisory("CVE-2024-11", affected("Debian:12", "systemd", rng(("introduced", "0")), fix_state="not-affected")),
        advisory("CVE-2024-12", affected("Debian:12", "systemd", rng(("introduced", "0")))),
    ])
    found = OsDistroMatcher().match(deb("libsystemd0", "252.1", "systemd", "252.1"), DEBIAN_12, store)
    assert sorted((f.id, f.fix_state, f.fixed_version) for f in found) == [
        ("CVE-2024-10", "will-not-fix", ""), ("CVE-2024-12", "not-fixed", "")]


@pytest.mark.usefixtures("fake_schemes")
def test_unparsable_versions_are_skipped_and_counted() -> None:
    store = FakeStore([
        advisory("CVE-2024-20", affected("npm", "left-pad", rng(("introduced", "0"), ("fixed", "not.a.version")))),
        advisory("CVE-2024-21", affected("npm", "left-pad", rng(*FIX))),
    ])
    ctx = MatchContext(store)
    found = LanguageMatcher().match(Package(type="npm", name="left-pad", version="1.0"), None, store, ctx)
    assert [f.id for f in found] == ["CVE-2024-21"]
    assert ctx.skipped_records == {"npm": 1}
    # An unreadable entry does not hide a readable entry of the same record.
    split = FakeStore([advisory("CVE-2024-0022", affected("npm", "node-fetch", rng(("introduced", "x"))),
                                affected("npm", "node-fetch", rng(*FIX)))])
    ctx = MatchContext(split)
    found = LanguageMatcher().match(Package(type="npm", name="node-fetch", version="1.0"), None, split, ctx)
    assert [f.id for f in found] == ["CVE-2024-0022"] and not ctx.skipped_records
    assert LanguageMatcher().match(Package(type="npm", name="left-pad", version="garbage!"), None, store, ctx) == []
    assert any("not a valid" in reason for _, reason in ctx.notes)


@pytest.mark.usefixtures("fake_schemes")
def test_match_sbom_sorts_and_explains_skips() -> None:
    store = FakeStore([
        advisory("CVE-2024-30", affected("Debian:12", "zlib", rng(*FIX)),
                 severity=(Severity("UNKNOWN", "cvss_v3", vector="CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"),)),
        advisory("CVE-2024-31", affected("Debian:12", "zlib", rng(*FIX), severity=(
            Severity("HIGH", "debian-urgency", vector="high"),))),
        advisory("CVE-2024-29", affected("Debian:12", "zlib", rng(*FIX))),
        advisory("GHSA-aaaa", affected("npm", "lodash", rng(*FIX)), severity=(
            Severity("CRITICAL", "ghsa", vector="CRITICAL"),)),
    ])
    image = sbom(DEBIAN_12, deb("zlib1g", "1.0", "zlib", "1.0"), Package(type="npm", name="lodash", version="1.0"),
                 Package(type="gem", name="rails", version="1.0"), Package(type="hex", name="plug", version="1.0"))
    result = match_sbom(image, store)
    assert [(f.id, f.severity.level) for f in result.findings] == [
        ("GHSA-aaaa", "CRITICAL"), ("CVE-2024-31", "HIGH"), ("CVE-2024-30", "LOW"), ("CVE-2024-29", "UNKNOWN")]
    reasons = sorted(n.reason for n in result.notes)
    assert reasons == ["no advisory data for ecosystem RubyGems (1 package)",
                       "no matcher for package type 'hex' (1 package)"]
    assert "schema 1" in result.db_summary
    other = match_sbom(sbom(Distro("amzn", "2023"), deb("zlib1g", "1.0", "zlib", "1.0")), store)
    assert other.findings == () and "unsupported distro" in other.notes[0].reason


def test_plugins_are_registered() -> None:
    assert {type(m).__name__ for m in all_matchers()} >= {"OsDistroMatcher", "LanguageMatcher"}
