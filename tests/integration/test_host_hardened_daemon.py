"""A second dockerd with a hardened daemon.json flips the CIS daemon controls to PASS (issue 5).

The test starts its own dockerd (private_dockerd.py) with ``--config-file daemon.json`` and assesses it
with the real ``containerguard scan host --docker-host unix://... -f json``, next to the same assessment
of the shared test daemon (scripts/test-env.sh: no daemon.json, no hardening). The collector finds the
daemon's configuration the way the engine does: ``--config-file`` on the daemon's command line in
/proc, else /etc/docker/daemon.json — so 2.x options, 1.1.11 (auditing) and 3.17/3.18 (owner, mode)
all look at the file the daemon really read.

What the hardening cannot change here, and why:

- 2.2 ``icc: false``: dockerd refuses it with ``--iptables=false`` ("ICC=false uses iptables to
  function"), and this sandbox needs ``--iptables=false --bridge=none``; without a default bridge
  the control is NOT_APPLICABLE on both daemons (test_icc_false_is_refused_without_iptables).
- 2.4 stays FAIL on both: ``--iptables=false`` is what this sandbox requires.
- 2.7 (TLS) is NOT_APPLICABLE on both: neither daemon listens on TCP.

``userns-remap: default`` starts here; on first use dockerd creates the ``dockremap`` user and its
/etc/subuid and /etc/subgid ranges, as it does on any host. The authorization plugin is a real one
served by the test (allow-all, AllowAllAuthz); the daemon will not start if the plugin does not answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from private_dockerd import AllowAllAuthz, Dockerd, DockerdError, new_home, start_dockerd, stop_dockerd

from needs import missing

Results = dict[tuple[str, str | None], dict[str, Any]]
"""``scan host -f json`` results keyed by (control id, resource)."""

FLIPS: dict[str, tuple[str, str]] = {
    # control: (status on the shared default daemon, status on the hardened one)
    "2.8": ("INFO", "PASS"),  # default-ulimits (a Manual control: INFO, not FAIL, when unset)
    "2.9": ("FAIL", "PASS"),  # userns-remap: default
    "2.12": ("FAIL", "PASS"),  # authorization-plugins
    "2.13": ("FAIL", "PASS"),  # log-driver: syslog (remote), instead of json-file
    "2.14": ("FAIL", "PASS"),  # no-new-privileges: true
    "2.15": ("FAIL", "PASS"),  # live-restore: true
    "2.16": ("FAIL", "PASS"),  # userland-proxy: false
    "3.17": ("NOT_APPLICABLE", "PASS"),  # daemon.json root:root (the shared daemon has no daemon.json)
    "3.18": ("NOT_APPLICABLE", "PASS"),  # daemon.json mode 0644
}
KEPT: dict[str, str] = {
    # control: status on both daemons
    "2.2": "NOT_APPLICABLE",  # icc: false is refused with --iptables=false; --bridge=none: no default bridge
    "2.3": "PASS",  # log-level: info is also the default
    "2.4": "FAIL",  # --iptables=false, required by this sandbox
    "2.5": "PASS",  # insecure-registries: [] (loopback is always insecure, by design of the engine)
    "2.7": "NOT_APPLICABLE",  # no TCP listener on either daemon
    "2.18": "PASS",  # experimental: false is also the default
}


@dataclass
class Hardened:
    """The private hardened daemon, its authorization plugin and its assessment."""

    daemon: Dockerd
    authz: AllowAllAuthz
    results: Results


def hardening(plugin: str) -> dict[str, Any]:
    """The hardened daemon.json (everything CIS section 2 asks for that this sandbox lets dockerd start with)."""
    return {
        "live-restore": True,
        "userland-proxy": False,
        "no-new-privileges": True,
        "log-level": "info",
        "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 4096, "Soft": 1024}},
        # A remote driver: UDP syslog needs no listener for the daemon to start (no container logs here).
        "log-driver": "syslog",
        "log-opts": {"syslog-address": "udp://127.0.0.1:514"},
        "userns-remap": "default",
        "authorization-plugins": [plugin],
        "experimental": False,
        "insecure-registries": [],
    }


def scan(url: str) -> Results:
    """``containerguard scan host --docker-host URL -f json``, the command users run."""
    proc = subprocess.run([sys.executable, "-m", "containerguard", "scan", "host", "--docker-host", url, "-f", "json"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return {(r["id"], r["resource"]): r for r in json.loads(proc.stdout)["results"]}


def _needs_dockerd() -> None:
    if shutil.which("dockerd") is None:
        missing("dockerd not installed (apt-get install -y docker.io)")
    if os.geteuid() != 0:
        missing("a private dockerd needs root")


@pytest.fixture(scope="module")
def hardened() -> Iterator[Hardened]:
    _needs_dockerd()
    with AllowAllAuthz() as authz:
        daemon = start_dockerd(new_home(), hardening(authz.name))
        try:
            yield Hardened(daemon, authz, scan(daemon.url))
        finally:
            stop_dockerd(daemon)  # before the plugin stops: the daemon asks it about every request


@pytest.fixture(scope="module")
def default(docker_host: str) -> Results:
    """The shared test daemon's assessment: the same checks, no hardening."""
    return scan(docker_host)


@pytest.mark.parametrize("cid", list(FLIPS))
def test_hardening_flips_the_control(cid: str, hardened: Hardened, default: Results) -> None:
    before, after = default[(cid, None)], hardened.results[(cid, None)]
    assert (before["status"], after["status"]) == FLIPS[cid], (before["evidence"], after["evidence"])


@pytest.mark.parametrize("cid", list(KEPT))
def test_controls_the_hardening_cannot_change_here(cid: str, hardened: Hardened, default: Results) -> None:
    before, after = default[(cid, None)], hardened.results[(cid, None)]
    assert (before["status"], after["status"]) == (KEPT[cid], KEPT[cid]), (before["evidence"], after["evidence"])


def test_the_passes_come_from_the_daemons_own_config_file(hardened: Hardened) -> None:
    by = {cid: r for (cid, resource), r in hardened.results.items() if resource is None}
    config = str(hardened.daemon.config)
    # Options only daemon.json sets: read from the file named by the daemon's --config-file.
    assert by["2.3"]["evidence"] == f'{config}: "log-level": "info"'
    assert by["2.14"]["evidence"] == f'{config}: "no-new-privileges": true'
    assert by["2.16"]["evidence"] == f'{config}: "userland-proxy": false'
    assert "'nofile'" in by["2.8"]["evidence"]
    # Options the engine reports itself: read from `docker info`.
    assert "name=userns" in by["2.9"]["evidence"]
    assert hardened.authz.name in by["2.12"]["evidence"] and hardened.authz.requests > 0
    assert by["2.13"]["evidence"] == "default logging driver syslog"
    assert by["2.15"]["evidence"] == "LiveRestoreEnabled: true"
    # The file controls and the auditing control look at that same file.
    assert by["3.17"]["evidence"] == by["3.18"]["evidence"] == f"{config} is file root:root mode 0644"
    assert config in by["1.1.11"]["evidence"] and by["1.1.11"]["status"] != "NOT_APPLICABLE"
    # The JSON carries the benchmark's flag and level: 1.1.11 is Automated (level 2), section 2 Manual.
    assert (by["1.1.11"]["automated"], by["1.1.11"]["level"]) == (True, 2)
    assert {by[cid]["automated"] for cid in FLIPS if cid.startswith("2.")} == {False}


def test_world_writable_daemon_json_fails_exactly_3_18(hardened: Hardened) -> None:
    config = hardened.daemon.config
    os.chmod(config, 0o666)
    try:
        writable = scan(hardened.daemon.url)
    finally:
        os.chmod(config, 0o644)
    assert set(writable) == set(hardened.results)
    changed = {key: (hardened.results[key]["status"], r["status"]) for key, r in writable.items()
               if r["status"] != hardened.results[key]["status"]}
    assert changed == {("3.18", None): ("PASS", "FAIL")}
    assert writable[("3.18", None)]["evidence"] == f"{config} is file root:root mode 0666 (allowed at most 0644)"
    assert writable[("3.17", None)]["status"] == "PASS"  # the owner is still root:root
    assert writable[("3.18", None)]["automated"] is False  # Manual in v1.6.0, a decided FAIL all the same


def test_icc_false_is_refused_without_iptables() -> None:
    """Why 2.2 cannot flip here: the daemon this sandbox allows (--iptables=false) refuses icc=false."""
    _needs_dockerd()
    with pytest.raises(DockerdError, match="--iptables=false with --icc=false"):
        stop_dockerd(start_dockerd(new_home(), {"icc": False}, timeout=60))
