"""``make bench`` host section: a full CIS Docker assessment of N containers vs. the bare inspect of them.

The floor, as issue 5 names it, is ``docker inspect`` of the same containers: the CLI, timed as a
process (its start-up included, as a user running it would pay). The full run is ``collect_host``
(version, info, every container, image, history, network, exec session, host files, /proc) plus
``audit`` (117 controls), in this process (Python start-up excluded). Target: full / ``docker inspect``
< 2. Also shown, for reference: the SDK floor, one ``GET /containers/ID/json`` per container through
the ``docker`` SDK in this process, which the collector no longer uses on a unix socket (its
keep-alive ``http.client`` path costs ~0.1 ms a request where the SDK costs ~0.8 ms).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import docker

from containerguard.pipeline.audit import audit
from containerguard.sources.docker_host import collect_host, engine_url

ROOT = Path(__file__).resolve().parent.parent
LABEL = "cg.bench"
BASE = os.environ.get("CG_BENCH_HOST_IMAGE", "cg-test/bookworm:1")


def _ensure_image(client: docker.DockerClient, url: str) -> None:
    """The base image the containers run: imported from the cached debootstrap tarball when the engine
    lacks it (the integration tests import the same one)."""
    try:
        client.images.get(BASE)
        return
    except docker.errors.ImageNotFound:
        pass
    tarball = subprocess.check_output([str(ROOT / "scripts" / "bookworm-tarball.sh")], text=True).strip()
    subprocess.run(["docker", "-H", url, "import", "--change", 'CMD ["bash"]', tarball, BASE],
                   check=True, stdout=subprocess.DEVNULL)


def host_section(containers: int = 50, rounds: int = 3) -> bool:
    """Create ``containers`` containers, time ``docker inspect`` vs. the full assessment; True when < 2x."""
    url = engine_url(None)
    try:
        client = docker.DockerClient(base_url=url)
    except docker.errors.DockerException as exc:
        raise SystemExit(f"bench: no Docker Engine at {url} (`make bench` starts one): {exc}") from exc
    _ensure_image(client, url)
    prefix = f"cgbench-{uuid.uuid4().hex[:6]}"
    ids: list[str] = []
    try:
        for i in range(containers):
            made = client.api.create_container(BASE, ["sleep", "300"], name=f"{prefix}-{i}", labels={LABEL: "1"},
                                               host_config=client.api.create_host_config(network_mode="none"))
            ids.append(made["Id"])
        floor, full, cli = [], [], []
        for _ in range(rounds):
            start = time.perf_counter()
            for cid in ids:
                client.api.inspect_container(cid)
            floor.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(["docker", "inspect", *ids], capture_output=True, check=True,
                           env={**os.environ, "DOCKER_HOST": url})
            cli.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = audit(collect_host(url), all_containers=True)
            full.append(time.perf_counter() - start)
        med_floor, med_full, med_cli = (statistics.median(x) for x in (floor, full, cli))
        total = len(result.inventory.containers)
        print(f"\nDocker host audit: {containers} bench containers ({total} on the engine), {len(result.results)} "
              f"results, rounds: {rounds}")
        print(f"  floor: docker inspect CLI      median {med_cli:6.3f} s")
        print(f"  SDK inspect of each (ref.)     median {med_floor:6.3f} s")
        print(f"  full collect + audit           median {med_full:6.3f} s")
        ratio = med_full / med_cli
        print(f"  full / docker inspect          {ratio:6.2f}   < 2.0    {'yes' if ratio < 2 else 'NO'}")
        print(f"  full / SDK inspect             {med_full / med_floor:6.2f}   (reference)")
        return ratio < 2
    finally:
        for cid in ids:
            client.api.remove_container(cid, force=True)
        client.close()


if __name__ == "__main__":
    raise SystemExit(0 if host_section() else 1)
