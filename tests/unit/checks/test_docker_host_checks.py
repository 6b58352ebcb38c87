"""CIS Docker checks on hand-written snapshots: each bad setting is flagged by exactly the controls naming it.

A FAIL is a decided failure whatever the benchmark's Automated/Manual flag (pipeline/audit.py), so the
hardened snapshot has no FAIL at all and each case's FAILs are exactly its controls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from host_fixtures import CONTAINER_ID, run, statuses

from containerguard.models.check import Status

Mutation = Callable[[dict[str, Any]], None]


def container(doc: dict[str, Any]) -> dict[str, Any]:
    c: dict[str, Any] = doc["containers"][0]
    return c


def host_config(**changes: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        container(doc)["HostConfig"].update(changes)
    return mutate


def add_mount(**mount: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        container(doc)["Mounts"].append({"Type": "bind", "RW": True, "Propagation": "rprivate", **mount})
    return mutate


def daemon_json(**changes: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        import json
        f = doc["files"]["/etc/docker/daemon.json"]
        config = json.loads(f["content"])
        for k, v in changes.items():
            if v is None:
                config.pop(k, None)
            else:
                config[k] = v
        f["content"] = json.dumps(config)
    return mutate


def info(**changes: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["info"].update(changes)
    return mutate


def file_attr(path: str, **changes: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["files"][path].update(changes)
    return mutate


def argv(*extra: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["dockerd"]["argv"] += list(extra)
    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        for m in mutations:
            m(doc)
    return mutate


def set_path(path: tuple[str, ...], value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[path[-1]] = value
    return mutate


ALL_AUDITED = {f"1.1.{n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 17, 18)}
"""1.1.x controls whose path exists in the hardened fixture (13, 15, 16 name missing files)."""

CASES: list[tuple[str, Mutation, set[str]]] = [
    ("privileged", host_config(Privileged=True), {"5.5"}),
    ("docker socket mounted", add_mount(Source="/var/run/docker.sock", Destination="/var/run/docker.sock"), {"5.32"}),
    ("host network", both(host_config(NetworkMode="host"),
                          set_path(("containers", "0", "NetworkSettings", "Networks"), {"host": {}})), {"5.10"}),
    ("host pid", host_config(PidMode="host"), {"5.16"}),
    ("host ipc", host_config(IpcMode="host"), {"5.17"}),
    ("host uts", host_config(UTSMode="host"), {"5.21"}),
    ("host userns", host_config(UsernsMode="host"), {"5.31"}),
    ("no memory limit", host_config(Memory=0), {"5.11"}),
    ("no cpu priority", host_config(CpuShares=0), {"5.12"}),
    ("writable rootfs", host_config(ReadonlyRootfs=False), {"5.13"}),
    ("cap add SYS_ADMIN", host_config(CapAdd=["SYS_ADMIN"]), {"5.4"}),
    ("cap add default cap only", host_config(CapAdd=["CAP_CHOWN", "NET_BIND_SERVICE"]), set()),
    ("seccomp unconfined", host_config(SecurityOpt=["no-new-privileges:true", "seccomp=unconfined"]), {"5.22"}),
    ("apparmor unconfined", set_path(("containers", "0", "AppArmorProfile"), "unconfined"), {"5.2"}),
    ("no pids limit", host_config(PidsLimit=None), {"5.29"}),
    ("restart always", host_config(RestartPolicy={"Name": "always", "MaximumRetryCount": 0}), {"5.15"}),
    ("sensitive rw mount", add_mount(Source="/etc", Destination="/host-etc"), {"5.6"}),
    ("sensitive ro mount", add_mount(Source="/etc", Destination="/host-etc", RW=False), set()),
    ("shared propagation", add_mount(Source="/srv/data", Destination="/data2", Propagation="rshared"), {"5.20"}),
    ("sshd running", set_path(("processes", CONTAINER_ID), ["/usr/sbin/sshd -D", "/app/server"]), {"5.7"}),
    ("privileged port on all interfaces",
     set_path(("containers", "0", "NetworkSettings", "Ports"), {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}]}),
     {"5.8", "5.14"}),
    ("high port on one interface", set_path(("containers", "0", "NetworkSettings", "Ports"),
                                            {"8080/tcp": [{"HostIp": "10.0.0.5", "HostPort": "8080"}]}), set()),
    ("no health check at runtime", set_path(("containers", "0", "Config", "Healthcheck"), None), {"5.27"}),
    ("privileged exec", set_path(("execs", CONTAINER_ID), [{"ID": "e1", "Privileged": True,
                                                             "ProcessConfig": {"entrypoint": "sh", "user": ""}}]),
     {"5.23"}),
    ("no no-new-privileges anywhere", both(host_config(SecurityOpt=[]), daemon_json(**{"no-new-privileges": None})),
     {"2.14", "5.26"}),
    ("container no-new-privileges only daemon-wide", host_config(SecurityOpt=[]), set()),
    ("image runs as root", set_path(("images", "0", "inspect", "Config", "User"), ""), {"4.1"}),
    ("image without healthcheck", set_path(("images", "0", "inspect", "Config", "Healthcheck"), None), {"4.6"}),
    ("content trust off", set_path(("environment",), {}), {"4.5"}),
    ("world-writable daemon.json", file_attr("/etc/docker/daemon.json", mode="0666"), {"3.18"}),
    ("daemon.json owned by a user", file_attr("/etc/docker/daemon.json", uid=1000, owner="alice"), {"3.17"}),
    ("docker.service writable by group", file_attr("/lib/systemd/system/docker.service", mode="0664"), {"3.2"}),
    ("docker.socket unit owned by a user", file_attr("/lib/systemd/system/docker.socket", uid=1000, owner="bob"),
     {"3.3"}),
    ("/etc/docker world-writable", file_attr("/etc/docker", mode="0777"), {"3.6"}),
    ("docker.sock world-writable", file_attr("/var/run/docker.sock", mode="0666"), {"3.16"}),
    ("docker.sock group root", file_attr("/var/run/docker.sock", gid=0, group="root"), {"3.15"}),
    ("containerd.sock world-writable", file_attr("/run/containerd/containerd.sock", mode="0666"), {"3.24"}),
    ("registry cert writable", file_attr("/etc/docker/certs.d/registry.example.com/ca.crt", mode="0644"), {"3.8"}),
    ("setuid bit on unit file", file_attr("/lib/systemd/system/docker.service", mode="4644"), {"3.2"}),
    ("no live restore", both(info(LiveRestoreEnabled=False), daemon_json(**{"live-restore": None})), {"2.15"}),
    ("no userns remap", both(info(SecurityOptions=["name=apparmor", "name=seccomp,profile=builtin"]),
                             daemon_json(**{"userns-remap": None})), {"2.9"}),
    ("iptables disabled", argv("--iptables=false"), {"2.4"}),
    ("icc enabled", set_path(("networks", "0", "Options"), {"com.docker.network.bridge.enable_icc": "true"}),
     {"2.2"}),
    ("debug log level", daemon_json(**{"log-level": "debug"}), {"2.3"}),
    ("insecure registry", set_path(("info", "RegistryConfig", "InsecureRegistryCIDRs"), ["127.0.0.0/8", "10.0.0.0/8"]),
     {"2.5"}),
    ("aufs", info(Driver="aufs"), {"2.6"}),
    ("tcp without tls", argv("-H", "tcp://0.0.0.0:2375"), {"2.7"}),
    ("tcp with tls, no verify", argv("-H", "tcp://0.0.0.0:2376", "--tls"), {"2.7"}),
    ("base device size", argv("--storage-opt", "dm.basesize=20G"), {"2.11"}),
    ("no authorization plugin", info(Plugins={"Authorization": None}), {"2.12"}),
    ("local logging", info(LoggingDriver="json-file"), {"2.13"}),
    ("userland proxy", daemon_json(**{"userland-proxy": None}), {"2.16"}),
    ("experimental", info(ExperimentalBuild=True), {"2.18"}),
    ("docker root on /", set_path(("mounts",), [["/dev/sda1", "/", "ext4", "rw"]]), {"1.1.1"}),
    ("docker root bind-mounted from the root device",
     set_path(("mounts",), [["/dev/sda1", "/", "ext4", "rw"], ["/dev/sda1", "/var/lib/docker", "ext4", "rw"]]),
     {"1.1.1"}),
    ("no audit rules", set_path(("audit",), {"source": "auditctl -l", "rules": []}), ALL_AUDITED),
]


@pytest.mark.parametrize(("mutation", "expected"), [(m, e) for _, m, e in CASES], ids=[n for n, _, _ in CASES])
def test_each_bad_setting_fails_exactly_its_controls(mutation: Mutation, expected: set[str]) -> None:
    result = run(mutation)
    assert statuses(result, Status.FAIL) == expected
    assert result.recommendation.status == ("Unhealthy" if expected else "Healthy")
    assert {s.id for s in result.recommendation.sub_assessments} == expected


def test_hardened_host_has_no_failure_nor_warning() -> None:
    result = run()
    assert statuses(result, Status.FAIL) == set()
    assert statuses(result, Status.WARN) == set()
    assert result.recommendation.status == "Healthy"


@pytest.mark.parametrize(("mutation", "cid", "automated", "level"), [
    (host_config(Privileged=True), "5.5", False, 1),
    (info(ExperimentalBuild=True), "2.18", False, 1),
    (both(info(SecurityOptions=["name=apparmor", "name=seccomp,profile=builtin"]),
          daemon_json(**{"userns-remap": None})), "2.9", False, 2),
    (file_attr("/var/run/docker.sock", mode="0666"), "3.16", True, 1),
], ids=["manual level 1 per container", "manual level 1 daemon", "manual level 2", "automated"])
def test_any_failure_makes_the_host_unhealthy(mutation: Mutation, cid: str, automated: bool, level: int) -> None:
    """Manual or Automated, Level 1 or 2: a FAIL is a sub-assessment, with the benchmark's flag kept."""
    result = run(mutation)
    [r] = [r for r in result.results if r.status == Status.FAIL]
    assert (r.id, r.automated, r.level) == (cid, automated, level)
    assert result.recommendation.status == "Unhealthy"
    assert [s.id for s in result.recommendation.sub_assessments] == [cid]


def test_undecided_results_do_not_make_the_host_unhealthy() -> None:
    """WARN (a person must look) and INFO (facts for review) are not failures, whatever the flag."""
    result = run(set_path(("mounts",), {"skipped": "permission denied"}))
    assert statuses(result, Status.WARN) == {"1.1.1"} and statuses(result, Status.FAIL) == set()
    assert statuses(result, Status.INFO)
    assert result.recommendation.status == "Healthy" and result.recommendation.sub_assessments == ()


def test_per_container_results_name_the_container() -> None:
    result = run(host_config(Privileged=True))
    [r] = [r for r in result.results if r.id == "5.5"]
    assert (r.resource, r.status, r.evidence) == ("api", Status.FAIL, "HostConfig.Privileged: true")
    [img] = [r for r in result.results if r.id == "4.6"]
    assert img.resource == "registry.example.com/api:1.4"


def test_section_5_assesses_running_containers_unless_all() -> None:
    def stopped(doc: dict[str, Any]) -> None:
        doc["containers"][0]["State"] = {"Status": "created", "Running": False}
        doc["containers"][0]["HostConfig"]["Privileged"] = True

    running_only = run(stopped)
    assert {r.status for r in running_only.results if r.id == "5.5"} == {Status.NOT_APPLICABLE}
    assert running_only.inventory.containers_stopped == 1
    everything = run(stopped, all_containers=True)
    assert {(r.resource, r.status) for r in everything.results if r.id == "5.5"} == {("api", Status.FAIL)}
    # A stopped container has no processes to look at: not a false PASS.
    assert {r.status for r in everything.results if r.id == "5.7"} == {Status.NOT_APPLICABLE}


DAEMON_OPTION_CONTROLS = {"2.3", "2.4", "2.8", "2.10", "2.11", "2.14", "2.16"}


def test_unknown_daemon_configuration_warns_never_passes() -> None:
    def blind(doc: dict[str, Any]) -> None:
        doc["dockerd"] = {"skipped": "no dockerd process found in /proc"}
        doc["files"]["/etc/docker/daemon.json"] = {"skipped": "cannot read /etc/docker/daemon.json: Permission denied"}

    result = run(blind)
    by_id = {r.id: r for r in result.results}
    for cid in DAEMON_OPTION_CONTROLS:
        assert by_id[cid].status == Status.WARN, cid
        assert "Permission denied" in by_id[cid].evidence
    assert by_id["3.17"].status == Status.WARN


def test_remote_engine_host_facts_warn() -> None:
    def remote(doc: dict[str, Any]) -> None:
        reason = {"skipped": "the engine at tcp://h:2376 is remote"}
        doc.update(local=False, docker_host="tcp://h:2376", dockerd=reason, audit=reason, mounts=reason,
                   docker_group=reason, registry_certs=reason, files={}, paths={}, environment={})

    result = run(remote)
    by_id = {r.id: r for r in result.results}
    assert by_id["2.7"].status == Status.FAIL  # the scanner spoke plain HTTP to it
    for cid in ("1.1.1", "1.1.3", "3.1", "3.17", "4.5", "2.4"):
        assert by_id[cid].status == Status.WARN, cid
    assert by_id["5.5"].status == Status.PASS  # engine facts still decide


def test_swarm_controls() -> None:
    def manager(doc: dict[str, Any]) -> None:
        doc["info"]["Swarm"] = {"LocalNodeState": "active", "ControlAvailable": True, "NodeAddr": "10.0.0.1"}
        doc["info"]["LiveRestoreEnabled"] = False
        doc["swarm"] = {"Spec": {"EncryptionConfig": {"AutoLockManagers": False},
                                 "CAConfig": {"NodeCertExpiry": 7776000000000000}}}
        doc["nodes"] = [{"ManagerStatus": {"Leader": True}}, {"ManagerStatus": {"Reachability": "reachable"}}, {}]
        doc["networks"].append({"Name": "ingress", "Driver": "overlay", "Options": {}})
        doc["networks"].append({"Name": "backend", "Driver": "overlay", "Options": {"encrypted": ""}})

    by_id = {r.id: r for r in run(manager).results}
    assert by_id["5.1"].status == Status.WARN
    assert by_id["2.15"].status == Status.NOT_APPLICABLE
    assert by_id["7.1"].status == Status.FAIL  # two managers
    assert by_id["7.3"].status == Status.FAIL and "ingress" in by_id["7.3"].evidence
    assert by_id["7.5"].status == Status.FAIL
    assert by_id["7.7"].status == Status.INFO and "2160 hours" in by_id["7.7"].evidence


@pytest.mark.parametrize(("steps", "status"), [
    (["RUN /bin/sh -c apt-get update"], Status.WARN),
    (["RUN /bin/sh -c apk update && apk add curl"], Status.PASS),
    (["RUN /bin/sh -c yum -y update"], Status.WARN),
])
def test_update_alone(steps: list[str], status: Status) -> None:
    result = run(set_path(("images", "0", "history"), [{"CreatedBy": s} for s in steps]))
    assert {r.status for r in result.results if r.id == "4.7"} == {status}


@pytest.mark.parametrize(("step", "status"), [
    ("/bin/sh -c #(nop) ADD file:abc123 in / ", Status.PASS),
    ("ADD https://example.com/app.tgz /app # buildkit", Status.WARN),
])
def test_add_instead_of_copy(step: str, status: Status) -> None:
    result = run(set_path(("images", "0", "history"), [{"CreatedBy": step}]))
    assert {r.status for r in result.results if r.id == "4.9"} == {status}


def test_secrets_in_image_env() -> None:
    result = run(set_path(("images", "0", "inspect", "Config", "Env"), ["DB_PASSWORD=hunter2", "PATH=/bin"]))
    [r] = [r for r in result.results if r.id == "4.10"]
    assert r.status == Status.WARN and "DB_PASSWORD" in r.evidence and "hunter2" not in r.evidence
