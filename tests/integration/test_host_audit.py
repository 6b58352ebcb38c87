"""`scan host` against the real test dockerd: containers with one bad setting each, and a hardened one.

Every test container starts from the same hardened options and changes exactly one setting, so the
section-5 controls that FAIL on it must be exactly the control naming that setting. All of them are
Manual in v1.6.0; a FAIL is a decided failure whatever the flag (pipeline/audit.py).
This sandbox refuses to *start* ``--privileged`` and ``--user UID:GID`` containers (capabilities,
setgroups): those are only created, and assessed with ``--all-containers``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from images import LABEL, Docker

from containerguard.models.check import HostAudit, Status
from containerguard.pipeline.audit import audit
from containerguard.sources.docker_host import collect_host

ROOT = Path(__file__).resolve().parents[2]
BASE = "cg-test/bookworm:1"
HARDENED = ["--network", "none", "--read-only", "--memory", "64m", "--cpu-shares", "512", "--pids-limit", "64",
            "--security-opt", "no-new-privileges", "--restart", "on-failure:3", "--health-cmd", "true"]
BAD: dict[str, tuple[str, tuple[str, ...], list[str], set[str]]] = {
    # name: (docker verb, hardened flags dropped, flags added, expected failing section-5 controls)
    "hardened": ("run", (), [], set()),
    "privileged": ("create", (), ["--privileged"], {"5.5"}),
    "socket": ("run", (), ["-v", "{sock}:/var/run/docker.sock"], {"5.32"}),
    "pidhost": ("run", (), ["--pid", "host"], {"5.16"}),
    "sysadmin": ("run", (), ["--cap-add", "SYS_ADMIN"], {"5.4"}),
    "nomemory": ("run", ("--memory",), [], {"5.11"}),
    "writable": ("run", ("--read-only",), [], {"5.13"}),
    "nethost": ("run", ("--network",), ["--network", "host"], {"5.10"}),
    "rootuser": ("create", (), ["--user", "0:0"], set()),  # the runtime user is no section-5 control (4.1: image)
}
VALUED = {"--network", "--memory", "--cpu-shares", "--pids-limit", "--security-opt", "--restart", "--health-cmd"}


@dataclass
class Scene:
    """The containers and images made for this module, and the audits of the engine."""

    prefix: str
    root_image: str
    hard_image: str
    running: HostAudit
    everything: HostAudit


def _options(drop: tuple[str, ...], add: list[str], sock: str) -> list[str]:
    opts: list[str] = []
    i = 0
    while i < len(HARDENED):
        flag = HARDENED[i]
        width = 2 if flag in VALUED else 1
        if flag not in drop:
            opts += HARDENED[i:i + width]
        i += width
    return opts + [a.replace("{sock}", sock) for a in add]


def _base_image(docker: Docker) -> str:
    if docker.has_image(BASE):
        return BASE
    tarball = subprocess.check_output([str(ROOT / "scripts/bookworm-tarball.sh")], text=True).strip()
    docker.run("import", "--change", f"LABEL {LABEL}=1", tarball, "cg-test/hostaudit-base:1")
    return "cg-test/hostaudit-base:1"


@pytest.fixture(scope="module")
def scene(docker: Docker, docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    prefix = f"cgha-{uuid.uuid4().hex[:8]}"
    base = _base_image(docker)
    ctx = tmp_path_factory.mktemp("hostaudit")
    root_image, hard_image = f"cg-test/{prefix}-root:1", f"cg-test/{prefix}-hardened:1"
    (ctx / "Dockerfile").write_text(f"FROM {base}\nLABEL {LABEL}=1\n")
    docker.build(root_image, ctx)
    (ctx / "Dockerfile").write_text(f'FROM {base}\nLABEL {LABEL}=1\nUSER 65534\nHEALTHCHECK CMD ["true"]\n')
    docker.build(hard_image, ctx)
    sock = docker_host.removeprefix("unix://")
    try:
        for name, (verb, drop, add, _) in BAD.items():
            image = hard_image if name == "hardened" else root_image
            detach = ["-d"] if verb == "run" else []
            docker.run(verb, *detach, "--name", f"{prefix}-{name}", *_options(drop, add, sock), image, "sleep", "300")
        snapshot = collect_host(docker_host)
        yield Scene(prefix, root_image, hard_image, audit(snapshot), audit(snapshot, all_containers=True))
    finally:
        names = [f"{prefix}-{n}" for n in BAD]
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, env=docker.env, check=False)
        subprocess.run(["docker", "rmi", root_image, hard_image], capture_output=True, env=docker.env, check=False)


def _failed(result: HostAudit, resource: str) -> set[str]:
    return {r.id for r in result.results
            if r.resource == resource and r.section == "5" and r.status == Status.FAIL}


@pytest.mark.parametrize("name", list(BAD))
def test_each_container_fails_exactly_its_control(scene: Scene, name: str) -> None:
    assert _failed(scene.everything, f"{scene.prefix}-{name}") == BAD[name][3]


def test_created_containers_need_all_containers(scene: Scene) -> None:
    assessed = {r.resource for r in scene.running.results if r.id == "5.5"}
    assert f"{scene.prefix}-socket" in assessed
    assert f"{scene.prefix}-privileged" not in assessed  # created, never started
    assert f"{scene.prefix}-privileged" in {r.resource for r in scene.everything.results if r.id == "5.5"}
    assert scene.running.inventory.containers_stopped >= 2


def test_images(scene: Scene) -> None:
    by = {(r.id, r.resource): r.status for r in scene.everything.results}
    assert by[("4.1", scene.root_image)] == Status.FAIL
    assert by[("4.6", scene.root_image)] == Status.FAIL
    assert by[("4.1", scene.hard_image)] == Status.PASS
    assert by[("4.6", scene.hard_image)] == Status.PASS


def test_daemon_and_files_of_the_test_engine(scene: Scene) -> None:
    # scripts/test-env.sh starts dockerd with --iptables=false and without live-restore or userns-remap.
    by = {r.id: r for r in scene.running.results if r.resource is None}
    assert by["2.4"].status == Status.FAIL and "--iptables=false" in by["2.4"].evidence
    assert by["2.9"].status == Status.FAIL
    assert by["2.15"].status == Status.FAIL
    assert by["3.15"].status in (Status.PASS, Status.FAIL) and "docker.sock" in by["3.15"].evidence
    assert by["5.1"].status == Status.PASS
    assert scene.running.recommendation.status == "Unhealthy"
    # The flags are the benchmark's: 2.x and section 5 are Manual, 3.15 Automated, and all count.
    assert not by["2.4"].automated and by["3.15"].automated
    subs = {(s.id, s.resource) for s in scene.running.recommendation.sub_assessments}
    assert ("2.4", None) in subs and ("5.32", f"{scene.prefix}-socket") in subs
    assert subs == {(r.id, r.resource) for r in scene.running.results if r.status == Status.FAIL}
    inv = scene.running.inventory
    assert inv.docker_version and inv.api_version and inv.storage_driver


def test_sshd_check_reads_processes(scene: Scene) -> None:
    [r] = [r for r in scene.running.results if r.id == "5.7" and r.resource == f"{scene.prefix}-pidhost"]
    assert r.status == Status.PASS and "sleep" not in r.evidence and "processes" in r.evidence


def test_cli_json_and_exit_code(scene: Scene, docker_host: str, tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    code = ("import sys; from containerguard.cli import main as m, host; "
            "m.scan_app.command('host')(host.scan_host); sys.argv[0] = 'containerguard'; m.main()")
    proc = subprocess.run([sys.executable, "-c", code, "scan", "host", "--docker-host", docker_host, "-f", "json",
                           "--save-snapshot", str(snap), "--exit-code", "3"],
                          capture_output=True, text=True, env={**os.environ}, timeout=120, check=False)
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"host", "results"}
    assert any(r["id"] == "5.32" and r["status"] == "FAIL" and r["resource"] == f"{scene.prefix}-socket"
               for r in doc["results"])
    offline = subprocess.run([sys.executable, "-c", code, "scan", "host", "--snapshot", str(snap), "-f", "json"],
                             capture_output=True, text=True, timeout=120, check=False)
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["results"] == doc["results"]
