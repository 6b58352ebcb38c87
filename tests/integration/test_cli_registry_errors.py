"""The CLI against a real registry's refusals: one clear line on stderr, exit code 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from imagebuilder import OciLayout, build_image
from registry_server import REGISTRY_BIN, push, start_registry

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(REGISTRY_BIN is None, reason="docker-registry not installed")]


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERGUARD_HOME": str(home), "DOCKER_CONFIG": str(home / "no-docker-config")}
    return subprocess.run([sys.executable, "-m", "containerguard", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_registry_refusals_are_one_line_and_exit_2(tmp_path: Path) -> None:
    oci = OciLayout(tmp_path / "layout")
    oci.tag(oci.add_image(build_image([{"etc/os-release": b"ID=alpine\nVERSION_ID=3.18.4\n"}])), "one")
    oci.write()
    home = tmp_path / "home"
    with start_registry(tmp_path / "reg", auth="htpasswd", users={"alice": "s3cret"}) as reg:
        push(f"oci:{tmp_path / 'layout'}:one", f"{reg.host}/private/app:1", creds="alice:s3cret")
        cases = {
            "anonymous": ([f"{reg.host}/private/app:1"], "refused anonymous access"),
            "wrong password": ([f"{reg.host}/private/app:1", "--username", "alice", "--password", "nope"],
                               "refused credentials"),
            "missing image": ([f"{reg.host}/private/none:1", "--username", "alice", "--password", "s3cret"],
                              "not found"),
        }
        for name, (args, message) in cases.items():
            out = tmp_path / f"{name}.json"
            res = cli("sbom", *args, "-o", str(out), home=home)
            assert res.returncode == 2, (name, res.stderr)
            assert message in res.stderr and res.stderr.count("\n") == 1, (name, res.stderr)
            assert not out.exists()
        ok = cli("sbom", f"{reg.host}/private/app:1", "--username", "alice", "--password", "s3cret", "-f", "json",
                 home=home)
        assert ok.returncode == 0, ok.stderr
        assert '"id": "alpine"' in ok.stdout
