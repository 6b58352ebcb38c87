"""Session fixtures for the integration tests: the Docker Engine, a private registry, the test images.

``make test`` starts dockerd (scripts/test-env.sh) and exports ``DOCKER_HOST``; the registry is started
here, per session, on a free loopback port with its storage in a temp dir (registry_server.py).
Without a Docker Engine the integration tests are skipped — unless ``CG_REQUIRE_INTEGRATION=1``
(set by ``make test`` and CI), in which case they fail, so CI can never pass by silently skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from images import BuiltImage, Docker, ImageFactory
from registry_server import start_registry

from needs import missing

DEFAULT_DOCKER_HOST = "unix:///tmp/cg-docker/docker.sock"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as ``integration``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def _unavailable(reason: str) -> NoReturn:
    missing(f"integration environment missing: {reason}")


@pytest.fixture(scope="session")
def docker_host() -> str:
    """The Docker Engine URL, checked to answer."""
    host = os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    if shutil.which("docker") is None:
        _unavailable("docker CLI not installed")
    probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                           env={**os.environ, "DOCKER_HOST": host}, timeout=30, check=False)
    if probe.returncode != 0:
        _unavailable(f"no Docker Engine answers at {host}")
    return host


@pytest.fixture(scope="session")
def docker(docker_host: str) -> Docker:
    """The docker CLI bound to the test engine."""
    return Docker(docker_host)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a private, anonymous Distribution registry (plain http, loopback only).

    Docker treats 127.0.0.0/8 registries as insecure by default, so ``docker push`` works over http.
    """
    if shutil.which("docker-registry") is None:
        _unavailable("docker-registry not installed (apt-get install -y docker-registry)")
    with start_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running.host


@pytest.fixture(scope="session")
def factory(docker: Docker, registry: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageFactory]:
    """Builds (once per session) and pushes the test images; see ``images.py``."""
    made = ImageFactory(docker, registry, tmp_path_factory.mktemp("images"))
    yield made
    made.prune()


@pytest.fixture(scope="session")
def bookworm_py(factory: ImageFactory) -> BuiltImage:
    """The Debian image with old PyPI packages: the richest image, used for the REF-form tests."""
    return factory.get("bookworm-py")
