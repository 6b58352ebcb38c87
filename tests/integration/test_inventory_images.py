"""Inventory real images (built by dockerd, served by a real registry) and compare with the truth.

The truth comes from the ecosystems' own tools (dpkg-query inside the image, pip list, npm ls,
go version -m, rpm -qa), never from a scanner; see images.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from images import ALL_IMAGES, BuiltImage, Docker, ImageFactory, Truth, normalize_pypi
from packageurl import PackageURL

from containerguard.models.sbom import Package, Sbom
from containerguard.pipeline.inventory import inventory
from containerguard.sources.base import SourceOptions


def full_name(pkg: Package) -> str:
    """The package's name as its ecosystem writes it (npm scope, Go module path, PEP 503 for PyPI)."""
    if pkg.type == "pypi":
        return normalize_pypi(pkg.name)
    if pkg.type in ("npm", "golang") and pkg.namespace:
        return f"{pkg.namespace}/{pkg.name}"
    return pkg.name


def found_pairs(packages: Iterable[Package]) -> dict[str, set[tuple[str, str]]]:
    """``{purl type: {(name, version)}}`` of what a scan reported."""
    out: dict[str, set[tuple[str, str]]] = {}
    for pkg in packages:
        out.setdefault(pkg.type, set()).add((full_name(pkg), pkg.full_version))
    return out


def assert_matches(found: dict[str, set[tuple[str, str]]], truth: Truth, what: str) -> None:
    """Exact match for complete types, a floor for the others, nothing deleted, no foreign types."""
    problems = []
    for ptype, expected in sorted(truth.packages.items()):
        got = found.get(ptype, set())
        missing = sorted(expected - got)
        extra = sorted(got - expected) if ptype in truth.complete else []
        if missing:
            problems.append(f"{ptype}: missing {missing}")
        if extra:
            problems.append(f"{ptype}: not in the image {extra}")
    for ptype, name in sorted(truth.absent):
        hits = sorted(v for n, v in found.get(ptype, set()) if n == name)
        if hits:
            problems.append(f"{ptype}: {name} was deleted in an upper layer but reported {hits}")
    foreign = sorted(set(found) - set(truth.packages))
    if foreign:
        problems.append(f"package types the image does not hold: { {t: sorted(found[t]) for t in foreign} }")
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


def registry_sbom(image: BuiltImage) -> Sbom:
    """Inventory ``image`` from the test registry (plain http on loopback)."""
    return inventory(image.ref, SourceOptions(insecure=True))


@pytest.mark.parametrize("key", ALL_IMAGES)
def test_registry_inventory_matches_truth(factory: ImageFactory, key: str) -> None:
    """Every image, read from the registry: the same packages as the image's own package tools."""
    image = factory.get(key)
    sbom = registry_sbom(image)
    assert_matches(found_pairs(sbom.packages), image.truth, image.ref)
    assert sbom.distro is not None, "no distro detected"
    assert (sbom.distro.id, sbom.distro.version_id) == (image.distro_id, image.distro_version)
    assert sbom.distro.distroless == (key == "distroless")
    assert sbom.artifact.manifest_digest.startswith("sha256:")


def _diff_ids(docker: Docker, image: str) -> list[str]:
    layers: list[str] = json.loads(docker.run("image", "inspect", "--format", "{{json .RootFS.Layers}}", image))
    return layers


def test_packages_carry_the_layer_that_added_them(factory: ImageFactory, docker: Docker) -> None:
    """OS packages point at the imported base layer, pip packages at the COPY layer above it."""
    image = factory.get("bookworm-py")
    base, top = _diff_ids(docker, image.local)
    sbom = registry_sbom(image)
    layers_by_type: dict[str, set[str]] = {}
    for pkg in sbom.packages:
        assert pkg.locations, f"{pkg.name} has no location"
        layers_by_type.setdefault(pkg.type, set()).update(loc.layer_digest for loc in pkg.locations)
    assert layers_by_type == {"deb": {base}, "pypi": {top}}
    # Paths may be written rooted ("/usr/...") or relative ("usr/..."): both name the same file.
    paths = {loc.path.lstrip("/") for pkg in sbom.packages if pkg.type == "pypi" for loc in pkg.locations}
    assert "usr/local/lib/python3.11/dist-packages/Django-3.2.dist-info/METADATA" in paths, paths
    assert all(p.startswith("usr/local/lib/python3.11/dist-packages/") for p in paths), paths


def test_whiteout_package_keeps_its_lower_layer_sibling(factory: ImageFactory) -> None:
    """The whiteout image deletes Jinja2 and tzdata; everything else of its parent survives."""
    parent = registry_sbom(factory.get("bookworm-py"))
    child = registry_sbom(factory.get("whiteout"))
    before, after = found_pairs(parent.packages), found_pairs(child.packages)
    assert {n for n, _ in before["pypi"] - after["pypi"]} == {"jinja2"}
    assert {n for n, _ in before["deb"] - after["deb"]} == {"tzdata"}


# --- the same image through every REF form -------------------------------------------------------


def _docker_archive(docker: Docker, image: BuiltImage, tmp: Path) -> str:
    out = tmp / "image.tar"
    docker.run("save", "-o", str(out), image.local)
    return f"docker-archive:{out}"


def _oci_dir(docker: Docker, image: BuiltImage, tmp: Path) -> str:
    out = tmp / "oci"
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false", f"docker://{image.ref}",
                    f"oci:{out}:{image.local.rsplit(':', 1)[1]}"], check=True, capture_output=True, timeout=600)
    return f"oci:{out}"


def _oci_tar(docker: Docker, image: BuiltImage, tmp: Path) -> str:
    layout = _oci_dir(docker, image, tmp).removeprefix("oci:")
    out = tmp / "oci.tar"
    with tarfile.open(out, "w") as tar:
        for child in sorted(Path(layout).iterdir()):
            tar.add(child, arcname=child.name)
    return f"oci:{out}"


def _docker_daemon(docker: Docker, image: BuiltImage, tmp: Path) -> str:
    return f"docker:{image.local}"


def _rootfs_dir(docker: Docker, image: BuiltImage, tmp: Path) -> str:
    container = docker.run("create", "--network", "none", image.local).strip()
    try:
        export = tmp / "rootfs.tar"
        docker.run("export", "-o", str(export), container)
    finally:
        docker.run("rm", container)
    root = tmp / "rootfs"
    root.mkdir()
    # GNU tar keeps special files and ownership as they are in the image, like a real unpacked rootfs.
    subprocess.run(["tar", "-C", str(root), "-xf", str(export)], check=True, timeout=600)
    export.unlink()
    return f"dir:{root}"


REF_FORMS = {
    "docker-archive": _docker_archive,
    "oci-dir": _oci_dir,
    "oci-tar": _oci_tar,
    "docker-daemon": _docker_daemon,
    "dir": _rootfs_dir,
}


@pytest.mark.parametrize("form", sorted(REF_FORMS))
def test_every_ref_form_gives_the_same_inventory(bookworm_py: BuiltImage, docker: Docker, docker_host: str,
                                                 form: str, tmp_path: Path) -> None:
    """docker-archive:, oci: (dir and tar), docker: and dir: see exactly what the registry source sees."""
    ref = REF_FORMS[form](docker, bookworm_py, tmp_path)
    sbom = inventory(ref, SourceOptions(docker_host=docker_host))
    assert_matches(found_pairs(sbom.packages), bookworm_py.truth, ref)
    assert sbom.distro is not None
    assert (sbom.distro.id, sbom.distro.version_id) == ("debian", "12")


# --- the command line ---------------------------------------------------------------------------


def _purl_pairs(components: Iterable[dict[str, object]]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for comp in components:
        purl = comp.get("purl")
        if not isinstance(purl, str):
            continue
        parsed = PackageURL.from_string(purl)
        name = parsed.name
        if parsed.type in ("npm", "golang") and parsed.namespace:
            name = f"{parsed.namespace}/{parsed.name}"
        elif parsed.type == "pypi":
            name = normalize_pypi(name)
        out.setdefault(parsed.type, set()).add((name, parsed.version or ""))
    return out


def test_cli_sbom_cyclonedx_from_registry(factory: ImageFactory, tmp_path: Path) -> None:
    """``containerguard sbom REF -f cyclonedx`` lists the image's packages as purls."""
    image = factory.get("bookworm-npm")
    out = tmp_path / "sbom.cdx.json"
    proc = subprocess.run(
        [sys.executable, "-m", "containerguard", "sbom", image.ref, "--insecure", "-q", "-f", "cyclonedx",
         "-o", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ},
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(out.read_text())
    assert document["bomFormat"] == "CycloneDX"
    pairs = _purl_pairs(document.get("components", []))
    assert_matches(pairs, image.truth, f"CycloneDX of {image.ref}")
    deb_purls = [c["purl"] for c in document["components"] if str(c.get("purl", "")).startswith("pkg:deb/")]
    assert all(PackageURL.from_string(p).namespace == "debian" for p in deb_purls)
