"""Package URLs for OS packages, which need the distro to be known."""

from __future__ import annotations

from packageurl import PackageURL

from containerguard.models.sbom import Distro, Package

_RPM_NAMESPACES = {
    "rhel": "redhat", "centos": "centos", "rocky": "rocky", "almalinux": "almalinux", "amzn": "amazon",
    "ol": "oracle", "fedora": "fedora", "sles": "suse", "opensuse-leap": "opensuse",
    "opensuse-tumbleweed": "opensuse", "photon": "photon", "azurelinux": "azurelinux", "mariner": "mariner",
}


def os_namespace(package: Package, distro: Distro | None) -> str:
    """The purl namespace of an OS package (debian, ubuntu, alpine, redhat…)."""
    if distro is None:
        return {"deb": "debian", "apk": "alpine", "rpm": "redhat"}.get(package.type, "")
    if package.type == "rpm":
        return _RPM_NAMESPACES.get(distro.id, distro.id)
    return distro.id


def os_purl(package: Package, distro: Distro | None) -> str:
    """The purl of a deb, apk or rpm package in ``distro``."""
    qualifiers: dict[str, str] = {}
    if package.arch:
        qualifiers["arch"] = package.arch
    if package.type == "rpm" and package.epoch:
        qualifiers["epoch"] = str(package.epoch)
    if distro is not None and distro.version_id:
        qualifiers["distro"] = f"{distro.id}-{distro.version_id}"
    version = package.version
    if package.type == "rpm" and package.release:
        version = f"{package.version}-{package.release}"
    return PackageURL(type=package.type, namespace=os_namespace(package, distro), name=package.name,
                      version=version, qualifiers=qualifiers or None).to_string()
