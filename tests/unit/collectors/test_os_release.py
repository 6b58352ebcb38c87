"""os-release collector: every supported distro's real release files, and pick_distro."""

from __future__ import annotations

from pathlib import Path

import pytest

from containerguard.collectors.base import FileInfo
from containerguard.collectors.os_release import OsReleaseCollector, parse_env_file, pick_distro
from containerguard.models.sbom import Distro

FIXTURES = Path(__file__).parents[2] / "fixtures" / "os_release"

_SUFFIX_TO_PATH = {
    "os-release": "etc/os-release",
    "lsb-release": "etc/lsb-release",
    "redhat-release": "etc/redhat-release",
    "system-release": "etc/system-release",
    "alpine-release": "etc/alpine-release",
    "debian_version": "etc/debian_version",
}


def _collect(fixture: str, path: str | None = None) -> Distro | None:
    data = (FIXTURES / fixture).read_bytes()
    path = path or _SUFFIX_TO_PATH[fixture.rsplit(".", 1)[1]]
    info = FileInfo(path=path, size=len(data), mode=0o100644, layer_digest="sha256:l1")
    collector = OsReleaseCollector()
    assert collector.required(info)
    return collector.collect(info, data).distro


# fixture, id, version_id, codename, id_like, distroless
CASES = [
    ("debian-12.os-release", "debian", "12", "bookworm", (), False),
    ("debian-sid.os-release", "debian", "", "trixie", (), False),
    ("ubuntu-22.04.os-release", "ubuntu", "22.04", "jammy", ("debian",), False),
    ("alpine-3.19.os-release", "alpine", "3.19.1", "", (), False),
    ("ubi-9.os-release", "rhel", "9.3", "", ("fedora",), False),
    ("rocky-9.os-release", "rocky", "9.3", "", ("rhel", "centos", "fedora"), False),
    ("almalinux-9.os-release", "almalinux", "9.3", "", ("rhel", "centos", "fedora"), False),
    ("amzn-2.os-release", "amzn", "2", "", ("centos", "rhel", "fedora"), False),
    ("amzn-2023.os-release", "amzn", "2023", "", ("fedora",), False),
    ("sles-15.5.os-release", "sles", "15.5", "", ("suse",), False),
    ("opensuse-leap-15.5.os-release", "opensuse-leap", "15.5", "", ("suse", "opensuse"), False),
    ("wolfi.os-release", "wolfi", "20230201", "", (), False),
    ("chainguard.os-release", "chainguard", "20230214", "", (), False),
    ("distroless-debian12.os-release", "debian", "12", "bookworm", (), True),
    ("ubuntu-22.04.lsb-release", "ubuntu", "22.04", "jammy", (), False),
    ("ubuntu-22.04.debian_version", "debian", "", "bookworm", (), False),
    ("debian-12.debian_version", "debian", "12", "", (), False),
    ("debian-sid.debian_version", "debian", "", "trixie", (), False),
    ("alpine-3.19.alpine-release", "alpine", "3.19.1", "", (), False),
    ("ubi-9.redhat-release", "rhel", "9.3", "Plow", (), False),
    ("centos-7.redhat-release", "centos", "7.9.2009", "Core", (), False),
    ("rocky-9.redhat-release", "rocky", "9.3", "Blue Onyx", (), False),
    ("almalinux-9.redhat-release", "almalinux", "9.3", "Shamrock Pearl", (), False),
    ("amzn-2.system-release", "amzn", "2", "Karoo", (), False),
    ("amzn-2023.system-release", "amzn", "2023", "Amazon Linux", (), False),
    ("amzn-2018.03.system-release", "amzn", "2018.03", "", (), False),
]


@pytest.mark.parametrize(("fixture", "distro_id", "version_id", "codename", "id_like", "distroless"), CASES)
def test_release_files(fixture: str, distro_id: str, version_id: str, codename: str,
                       id_like: tuple[str, ...], distroless: bool) -> None:
    distro = _collect(fixture)
    assert distro is not None
    assert (distro.id, distro.version_id, distro.codename, distro.id_like, distro.distroless) == (
        distro_id, version_id, codename, id_like, distroless)


def test_pretty_name_and_name_kept() -> None:
    distro = _collect("ubi-9.os-release", "usr/lib/os-release")
    assert distro is not None
    assert distro.name == "Red Hat Enterprise Linux"
    assert distro.pretty_name == "Red Hat Enterprise Linux 9.3 (Plow)"


@pytest.mark.parametrize("path", ["etc/os-release", "usr/lib/os-release", "etc/debian_version",
                                  "etc/alpine-release", "etc/redhat-release", "etc/system-release",
                                  "etc/lsb-release"])
def test_required_paths(path: str) -> None:
    assert OsReleaseCollector().required(FileInfo(path=path, size=100, mode=0o100644))


@pytest.mark.parametrize(("path", "size"), [("etc/os-release.bak", 100), ("usr/etc/os-release", 100),
                                            ("etc/os-release", 10 * 1024 * 1024), ("etc/issue", 10)])
def test_not_required(path: str, size: int) -> None:
    assert not OsReleaseCollector().required(FileInfo(path=path, size=size, mode=0o100644))


@pytest.mark.parametrize(("path", "content"), [
    ("etc/os-release", b"NAME=Something\n"),
    ("etc/os-release", b"\x00\xff\xfe garbage \x80\n=\n==\n"),
    ("etc/redhat-release", b"Slackware 15.0\n"),
    ("etc/redhat-release", b""),
    ("etc/alpine-release", b"edge\n"),
    ("etc/debian_version", b"\n"),
    ("etc/lsb-release", b"DISTRIB_RELEASE=1\n"),
])
def test_unrecognised_is_skipped_not_raised(path: str, content: bytes) -> None:
    info = FileInfo(path=path, size=len(content), mode=0o100644)
    result = OsReleaseCollector().collect(info, content)
    assert result.distro is None
    assert result.skipped and result.skipped[0].path == "/" + path


def test_quoting_rules() -> None:
    env = parse_env_file('A="x \\"y\\" \\$z"\nB=\'single $q\'\nC=plain\\ word\n# D=comment\nbad key=1\nE=\n')
    assert env == {"A": 'x "y" $z', "B": "single $q", "C": "plain word", "E": ""}


def _d(path: str, fixture: str) -> tuple[str, Distro]:
    distro = _collect(fixture, path.lstrip("/"))
    assert distro is not None
    return (path, distro)


def test_pick_prefers_os_release_over_debian_version_on_ubuntu() -> None:
    picked = pick_distro([
        _d("etc/debian_version", "ubuntu-22.04.debian_version"),
        _d("etc/lsb-release", "ubuntu-22.04.lsb-release"),
        _d("usr/lib/os-release", "ubuntu-22.04.os-release"),
    ])
    assert picked is not None
    assert (picked.id, picked.version_id, picked.pretty_name) == ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS")


def test_pick_etc_os_release_over_usr_lib() -> None:
    picked = pick_distro([_d("usr/lib/os-release", "debian-12.os-release"),
                          _d("/etc/os-release", "distroless-debian12.os-release")])
    assert picked is not None and picked.distroless


def test_pick_falls_back_to_vendor_file() -> None:
    picked = pick_distro([_d("etc/redhat-release", "centos-7.redhat-release")])
    assert picked is not None and (picked.id, picked.version_id) == ("centos", "7.9.2009")


def test_pick_fills_missing_version_from_same_distro_only() -> None:
    sid = pick_distro([_d("etc/os-release", "debian-sid.os-release"),
                       _d("etc/debian_version", "debian-sid.debian_version")])
    assert sid is not None and (sid.version_id, sid.codename) == ("", "trixie")
    filled = pick_distro([_d("etc/os-release", "debian-sid.os-release"),
                          _d("etc/debian_version", "debian-12.debian_version")])
    assert filled is not None
    assert (filled.id, filled.version_id, filled.codename) == ("debian", "12", "trixie")
    other = pick_distro([_d("etc/os-release", "debian-sid.os-release"),
                         _d("etc/alpine-release", "alpine-3.19.alpine-release")])
    assert other is not None and other.version_id == ""


def test_pick_nothing() -> None:
    assert pick_distro([]) is None
