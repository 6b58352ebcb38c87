"""``docker:NAME`` against the real Docker Engine started for the integration tests."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "sources"))

from imagebuilder import layer_tar, sha256

from containerguard.config import Settings
from containerguard.errors import SourceError
from containerguard.sources.base import SourceOptions
from containerguard.sources.ref import open_source


def test_image_from_engine(docker_host: str, tmp_path: Path) -> None:
    tar = layer_tar({"etc/os-release": b"ID=debian\nVERSION_ID=12\n", "usr/bin/tool": b"#!/bin/sh\n"})
    name = f"cg-src-test-{uuid.uuid4().hex[:8]}:1"
    env = {"DOCKER_HOST": docker_host, "PATH": "/usr/local/bin:/usr/bin:/bin"}
    subprocess.run(["docker", "import", "-", name], input=tar, env=env, check=True, capture_output=True,
                   timeout=120)
    try:
        options = SourceOptions(docker_host=docker_host, settings=Settings(home=tmp_path / "home"))
        with open_source(f"docker:{name}", options).session() as source:
            meta = source.metadata()
            assert meta.source == "docker" and name in meta.repo_tags[0]
            # docker import stores the tar as given: its digest is the layer's diff_id.
            assert [la.diff_id for la in meta.layers] == [sha256(tar)]
            with source.open_blob(meta.layers[0]) as blob:
                assert blob.read() == tar
        assert list((tmp_path / "home" / "tmp").iterdir()) == []
        with pytest.raises(SourceError, match="not found in the Docker Engine"):
            open_source(f"docker:{name}-missing", options).metadata()
    finally:
        subprocess.run(["docker", "rmi", "-f", name], env=env, capture_output=True, timeout=60, check=False)
