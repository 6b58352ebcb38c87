"""``containerguard agent`` against the real server process and the real test dockerd: ``--once``
pushes a real snapshot and the host appears with the engine's Docker version and container counts;
the long-running agent reacts to a Docker event (a container removed) with a new assessment whose
changes name that container; with the server down, ``--once`` spools and a later run delivers."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cg_server import ServerProcess, cli, server_env, wait_for
from images import LABEL, Docker
from registry_server import free_port


def _tiny_image(docker: Docker) -> str:
    """A one-file image (``docker import``): enough to create containers, no network or base needed."""
    name = "cg-test/agent-tiny:1"
    if docker.has_image(name):
        return name
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"agent test\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    docker.run("import", "--change", f"LABEL {LABEL}=1", "--change", 'CMD ["/hello.txt"]', "-", name,
               stdin=buf.getvalue())
    return name


def _engine_counts(docker: Docker) -> tuple[str, int, int]:
    """(server version, running containers, all containers), asked of the docker CLI."""
    version = docker.run("version", "--format", "{{.Server.Version}}").strip()
    running = len(docker.run("ps", "-q").split())
    every = len(docker.run("ps", "-a", "-q").split())
    return version, running, every


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = server_env(tmp_path / "home", "")
    token = cli(env, "token", "create", "--role", "admin").strip()
    process = ServerProcess(env, free_port(), tmp_path / "server.log", token).start()
    yield process
    process.stop()


def _register(server: ServerProcess, name: str) -> dict[str, Any]:
    response = server.api("POST", "/api/v1/hosts", json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _agent(server_url: str, token: str, docker_host: str, spool: Path, *extra: str,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERGUARD_HOME": str(spool.parent / "agent-home")}
    result = subprocess.run([sys.executable, "-m", "containerguard", "agent", "--server", server_url,
                             "--token", token, "--docker-host", docker_host, "--spool", str(spool), *extra],
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_agent_once_pushes_a_real_snapshot(server: ServerProcess, docker: Docker, docker_host: str,
                                           tmp_path: Path) -> None:
    name = f"cg-agent-{uuid.uuid4().hex[:8]}"
    docker.run("create", "--label", f"{LABEL}=1", "--name", name, "--network", "none", _tiny_image(docker))
    try:
        host = _register(server, "real-host")
        # Other tests create and remove containers on the same engine: retry until the engine was stable
        # around the push (a real miscount repeats every time).
        for _ in range(3):
            before = _engine_counts(docker)
            out = _agent(server.url, host["token"], docker_host, tmp_path / "spool", "--once")
            after = _engine_counts(docker)
            [listed] = server.get("/api/v1/hosts")["items"]
            version, running, every = after
            if before == after and listed["containers"] == {"running": running, "stopped": every - running}:
                break
        assert "assessment" in out.stdout
        assert listed["id"] == host["id"] and listed["docker_version"] == version
        assert listed["containers"] == {"running": running, "stopped": every - running}
        assert listed["health"] in ("Healthy", "Unhealthy") and listed["api_version"]
        detail = server.get(f"/api/v1/hosts/{host['id']}")
        mine = [c for c in detail["containers"]["items"] if c["name"] == name]
        assert [(c["state"], c["image"]) for c in mine] == [("created", "cg-test/agent-tiny:1")]
        assert list((tmp_path / "spool").iterdir()) == []  # delivered, nothing left queued
    finally:
        docker.run("rm", "-f", name)


def test_agent_follows_docker_events_and_spools_while_the_server_is_down(
        server: ServerProcess, docker: Docker, docker_host: str, tmp_path: Path) -> None:
    host = _register(server, "evented")
    name = f"cg-agent-{uuid.uuid4().hex[:8]}"
    docker.run("create", "--label", f"{LABEL}=1", "--name", name, "--network", "none", _tiny_image(docker))
    spool = tmp_path / "spool"
    log = (tmp_path / "agent.log").open("wb")
    env = {**os.environ, "CONTAINERGUARD_HOME": str(tmp_path / "agent-home")}
    agent = subprocess.Popen([sys.executable, "-m", "containerguard", "agent", "--server", server.url,
                              "--token", host["token"], "--docker-host", docker_host, "--spool", str(spool),
                              "--interval", "60", "--debounce", "0.5"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        history = f"/api/v1/hosts/{host['id']}/snapshots"
        wait_for("the first assessment", lambda: server.get(history)["items"], timeout=120)
        time.sleep(1)  # the event stream subscribes in its own thread; let it be listening
        docker.run("rm", "-f", name)  # a container "destroy" event: the agent collects again, not in 60 min

        def removed() -> dict[str, Any] | None:
            if len(server.get(history)["items"]) < 2:
                return None
            changes: dict[str, Any] = server.get(f"/api/v1/hosts/{host['id']}/changes")
            return changes if any(c["name"] == name for c in changes["containers_removed"]) else None

        wait_for("an assessment after the event", removed, timeout=120)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        log.close()
        subprocess.run(["docker", "rm", "-f", name], env=docker.env, capture_output=True, check=False)

    # Server down: --once keeps the snapshot on disk and says so; the next run delivers it first.
    count = len(server.get(f"/api/v1/hosts/{host['id']}/snapshots")["items"])
    server.stop()
    down = _agent(server.url, host["token"], docker_host, spool, "--once", check=False)
    assert down.returncode == 1 and "queued" in down.stderr
    assert len([p for p in spool.iterdir() if p.suffix == ".json"]) == 1
    server.start()
    _agent(server.url, host["token"], docker_host, spool, "--once")
    assert len(server.get(f"/api/v1/hosts/{host['id']}/snapshots")["items"]) == count + 2
    assert [p for p in spool.iterdir() if p.suffix == ".json"] == []
