"""The distro of an image, from os-release and the older release files.

Each file gives one candidate :class:`Distro`; the squash keeps one result per path, and the SBOM
builder chooses among the surviving candidates with :func:`pick_distro`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from containerguard.collectors.base import Collector, FileInfo
from containerguard.errors import CollectError
from containerguard.models.sbom import Collected, Distro
from containerguard.registry import register

_MAX_BYTES = 64 * 1024
"""Release files are a few hundred bytes; anything far bigger is not one."""

# Lower rank wins. os-release is the modern, authoritative source (etc/ overrides usr/lib/ per
# os-release(5)); the vendor files are fallbacks for old images. debian_version comes last because
# Ubuntu and other derivatives ship it too, with a Debian codename such as "bookworm/sid".
PATH_PRIORITY: dict[str, int] = {
    "etc/os-release": 0,
    "usr/lib/os-release": 1,
    "etc/lsb-release": 2,
    "etc/system-release": 3,
    "etc/redhat-release": 4,
    "etc/alpine-release": 5,
    "etc/debian_version": 6,
}

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DQ_ESCAPE = re.compile(r"\\([\"\\$`])")
_PAREN = re.compile(r"\(([^)]*)\)")
_RELEASE_LINE = re.compile(
    r"^(?P<name>.+?)\s+release\s+(?P<version>[0-9][0-9A-Za-z._-]*)(?:\s+\((?P<code>[^)]*)\))?")

# Vendor names in *-release files -> os-release IDs. Longest names first so "CentOS Stream" is
# checked before "CentOS".
_RELEASE_NAMES: tuple[tuple[str, str], ...] = (
    ("red hat enterprise linux", "rhel"),
    ("centos stream", "centos"),
    ("centos linux", "centos"),
    ("centos", "centos"),
    ("rocky linux", "rocky"),
    ("almalinux", "almalinux"),
    ("amazon linux ami", "amzn"),
    ("amazon linux", "amzn"),
    ("oracle linux server", "ol"),
    ("oracle linux", "ol"),
    ("fedora", "fedora"),
)


def parse_env_file(text: str) -> dict[str, str]:
    """Parse an os-release style ``KEY=value`` file (shell-like quoting, no expansion)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not _KEY.match(key):
            continue
        values[key] = _unquote(value.strip())
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _DQ_ESCAPE.sub(r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    # Unquoted values may still escape characters with a backslash.
    return re.sub(r"\\(.)", r"\1", value)


def parse_os_release(text: str) -> Distro | None:
    """A distro from os-release content, or None without an ``ID``."""
    env = parse_env_file(text)
    distro_id = env.get("ID", "").strip().lower()
    if not distro_id:
        return None
    pretty = env.get("PRETTY_NAME", "")
    codename = env.get("VERSION_CODENAME") or env.get("UBUNTU_CODENAME") or ""
    if not codename and distro_id == "debian":
        # Older Debian and Google distroless only name the codename inside VERSION: "12 (bookworm)".
        match = _PAREN.search(env.get("VERSION", ""))
        if match and match.group(1).isalpha():
            codename = match.group(1).lower()
    distroless = pretty.strip().lower() == "distroless" or "distroless" in env.get("HOME_URL", "").lower()
    return Distro(
        id=distro_id,
        version_id=env.get("VERSION_ID", ""),
        name=env.get("NAME", ""),
        pretty_name=pretty,
        codename=codename,
        id_like=tuple(env.get("ID_LIKE", "").lower().split()),
        distroless=distroless,
    )


def parse_lsb_release(text: str) -> Distro | None:
    """A distro from ``/etc/lsb-release`` (Ubuntu and a few others)."""
    env = parse_env_file(text)
    distro_id = env.get("DISTRIB_ID", "").strip().lower()
    if not distro_id:
        return None
    return Distro(
        id=distro_id,
        version_id=env.get("DISTRIB_RELEASE", ""),
        name=env.get("DISTRIB_ID", ""),
        pretty_name=env.get("DISTRIB_DESCRIPTION", ""),
        codename=env.get("DISTRIB_CODENAME", "").lower(),
    )


def parse_release_line(text: str) -> Distro | None:
    """A distro from a ``NAME release VERSION (CODE)`` line (redhat-release, system-release)."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    match = _RELEASE_LINE.match(line)
    if not match:
        return None
    name = match.group("name")
    lowered = name.lower()
    distro_id = next((i for prefix, i in _RELEASE_NAMES if lowered.startswith(prefix)), "")
    if not distro_id:
        return None
    version = match.group("version")
    if distro_id == "amzn" and not lowered.startswith("amazon linux ami"):
        # AL2023 writes "2023.3.20240219" where its os-release VERSION_ID is "2023"; AL1
        # ("Amazon Linux AMI release 2018.03") keeps its dotted version.
        version = version.split(".")[0]
    return Distro(id=distro_id, version_id=version, name=name, pretty_name=line,
                  codename=(match.group("code") or "").strip())


def parse_alpine_release(text: str) -> Distro | None:
    """A distro from ``/etc/alpine-release`` (just the version)."""
    version = text.strip().split()[0] if text.strip() else ""
    if not version or not version[0].isdigit():
        return None
    return Distro(id="alpine", version_id=version, name="Alpine Linux")


def parse_debian_version(text: str) -> Distro | None:
    """A distro from ``/etc/debian_version``: ``12.5`` or ``trixie/sid``."""
    value = text.strip().split()[0] if text.strip() else ""
    if not value:
        return None
    if value[0].isdigit():
        # os-release's VERSION_ID for Debian is the major release only.
        return Distro(id="debian", version_id=value.split(".")[0], name="Debian GNU/Linux", pretty_name=value)
    codename = value.split("/")[0].lower()
    if not codename.isalpha():
        return None
    return Distro(id="debian", name="Debian GNU/Linux", pretty_name=value, codename=codename)


_PARSERS: dict[str, Callable[[str], Distro | None]] = {
    "etc/os-release": parse_os_release,
    "usr/lib/os-release": parse_os_release,
    "etc/lsb-release": parse_lsb_release,
    "etc/system-release": parse_release_line,
    "etc/redhat-release": parse_release_line,
    "etc/alpine-release": parse_alpine_release,
    "etc/debian_version": parse_debian_version,
}


def pick_distro(candidates: list[tuple[str, Distro]]) -> Distro | None:
    """Choose the image's distro from ``(path, distro)`` candidates found in the squashed image.

    The candidate from the highest-priority file wins (see :data:`PATH_PRIORITY`); a missing
    ``version_id`` or ``codename`` is filled from lower-priority candidates of the same ``id``
    (Debian testing has no VERSION_ID in os-release). Setting ``distroless`` when the image has a
    ``var/lib/dpkg/status.d/`` directory (and no ``status``) is the SBOM builder's job; this only
    keeps the flag os-release itself gave.
    """
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda item: PATH_PRIORITY.get(item[0].lstrip("/"), len(PATH_PRIORITY)))
    best = ranked[0][1]
    version_id, codename = best.version_id, best.codename
    for _, other in ranked[1:]:
        if other.id != best.id:
            continue
        version_id = version_id or other.version_id
        codename = codename or other.codename
    if (version_id, codename) == (best.version_id, best.codename):
        return best
    return Distro(id=best.id, version_id=version_id, name=best.name, pretty_name=best.pretty_name,
                  codename=codename, id_like=best.id_like, distroless=best.distroless)


@register("collector")
class OsReleaseCollector(Collector):
    """Reads os-release and the vendor release files into a :class:`Distro` candidate."""

    name = "os-release"
    version = 1
    ecosystems = ()

    def required(self, info: FileInfo) -> bool:
        """Only the known release files, and only if small."""
        return info.path in _PARSERS and info.size <= _MAX_BYTES

    def collect(self, info: FileInfo, content: bytes) -> Collected:
        """Parse one release file into a distro candidate."""
        parser = _PARSERS.get(info.path)
        if parser is None:
            raise CollectError(f"not a release file: {info.path}")
        text = content[:_MAX_BYTES].decode("utf-8", errors="replace")
        distro = parser(text)
        if distro is None:
            return self.skipped(info, "os-release: no distro identified")
        return Collected(distro=distro)
