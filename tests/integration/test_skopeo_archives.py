"""Archives and layouts written by a real tool (skopeo) read by our sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "sources"))

from imagebuilder import OciLayout, build_image

from containerguard.models.artifact import Platform
from containerguard.sources.base import SourceOptions
from containerguard.sources.ref import open_source

pytestmark = pytest.mark.skipif(shutil.which("skopeo") is None, reason="needs skopeo")

AMD64 = build_image([{"etc/os-release": b"ID=debian\n"}, {"app/main": b"amd64"}])
ARM64 = build_image([{"etc/os-release": b"ID=debian\n"}, {"app/main": b"arm64"}], arch="arm64")


def _skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", *args], check=True,
                   capture_output=True, timeout=120)


def _diff_ids(ref: str, options: SourceOptions | None = None) -> list[str]:
    with open_source(ref, options).session() as source:
        meta = source.metadata()
        for layer in meta.layers:
            with source.open_blob(layer) as blob:
                while blob.read(1 << 20):
                    pass
        return [la.diff_id for la in meta.layers]


def test_skopeo_written_formats(tmp_path: Path) -> None:
    layout = OciLayout(tmp_path / "src")
    layout.tag(layout.add_index([AMD64, ARM64]), "multi")
    src = layout.write()
    expected = [la.diff_id for la in AMD64.layers]
    # skopeo's docker-archive (legacy layout), with a name to select.
    _skopeo(f"oci:{src}:multi", f"docker-archive:{tmp_path / 'a.tar'}:example/app:1")
    assert _diff_ids(f"docker-archive:{tmp_path / 'a.tar'}:example/app:1") == expected
    # skopeo's OCI layout: a directory and the same as a tar, multi-platform.
    _skopeo("--all", f"oci:{src}:multi", f"oci:{tmp_path / 'copy'}:v1")
    assert _diff_ids(f"oci:{tmp_path / 'copy'}:v1") == expected
    arm = SourceOptions(platform=Platform("linux", "arm64"))
    assert _diff_ids(f"oci:{tmp_path / 'copy'}:v1", arm) == [la.diff_id for la in ARM64.layers]
    _skopeo(f"oci:{src}:multi", f"oci-archive:{tmp_path / 'copy.tar'}:v2")
    assert _diff_ids(f"oci:{tmp_path / 'copy.tar'}:v2") == expected
