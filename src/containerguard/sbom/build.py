"""Turn the squashed per-file results of an image into its SBOM."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from containerguard.collectors.os_release import pick_distro
from containerguard.layers.squash import SquashedFile, squash
from containerguard.models.artifact import ImageMetadata
from containerguard.models.layer import LayerInventory
from containerguard.models.sbom import Distro, Package, Sbom, Skipped
from containerguard.sbom.purl import os_purl

OS_TYPES = frozenset({"deb", "apk", "rpm"})
_DISTROLESS_MARK = "var/lib/dpkg/status.d/"


def build_sbom(artifact: ImageMetadata, layers: Sequence[LayerInventory]) -> Sbom:
    """Squash the layers, pick the distro, give OS packages their purls, sort and de-duplicate."""
    files = squash(layers)
    distro = _distro(files)
    packages: list[Package] = []
    skipped: list[Skipped] = []
    seen: dict[tuple[str, str, str, str, str], int] = {}
    for item in files:
        collected = item.result.collected
        skipped.extend(collected.skipped)
        for pkg in collected.packages:
            if pkg.type in OS_TYPES and not pkg.purl:
                pkg = dataclasses.replace(pkg, purl=os_purl(pkg, distro))
            key = (pkg.type, pkg.namespace, pkg.name, pkg.full_version, pkg.arch)
            if key in seen:
                # The same package found twice (e.g. two dist-info copies): keep one, merge locations.
                index = seen[key]
                prior = packages[index]
                merged = tuple(dict.fromkeys(prior.locations + pkg.locations))
                packages[index] = dataclasses.replace(prior, locations=merged)
                continue
            seen[key] = len(packages)
            packages.append(pkg)
    packages.sort(key=lambda p: (p.type, p.namespace, p.name, p.full_version))
    return Sbom(artifact=artifact, distro=distro, packages=tuple(packages), skipped=tuple(skipped))


def _distro(files: Sequence[SquashedFile]) -> Distro | None:
    candidates = [("/" + f.result.path, f.result.collected.distro) for f in files
                  if f.result.collected.distro is not None]
    distro = pick_distro([(path, d) for path, d in candidates if d is not None])
    if distro is not None and not distro.distroless and any(
            f.result.path.startswith(_DISTROLESS_MARK) for f in files):
        distro = dataclasses.replace(distro, distroless=True)
    return distro
