"""CIS Docker Benchmark 1.6.0 section 1: host configuration (partition, docker group, auditing, updates)."""

from __future__ import annotations

from collections.abc import Callable

from containerguard.checks.base import Check, Outcome, control, failed, info, not_applicable, passed, warn
from containerguard.checks.docker_facts import audited, names
from containerguard.models.snapshot import HostFile, HostSnapshot, Skipped
from containerguard.registry import register

AUDIT_REMEDIATION = ("Install auditd and add a watch for {what}, e.g. `-w {path} -k docker` in "
                     "/etc/audit/rules.d/docker.rules, then reload the rules (augenrules --load).")
AUDIT_RATIONALE = ("Auditing Docker's files and binaries records who changed the daemon, its configuration "
                   "or its runtime, which is needed to investigate incidents.")


@register("check")
@control("host-docker-partition", "1.1.1", "Ensure a separate partition for containers has been created",
         level=1, automated=False, scope="host",
         remediation="Create a separate partition (or LVM volume) for the Docker root directory "
                     "(/var/lib/docker by default) and mount it there.",
         rationale="Docker's root directory grows with images and containers; on its own partition it "
                   "cannot fill the host's root filesystem.")
def separate_partition(s: HostSnapshot) -> Outcome:
    """The Docker root directory (``info.DockerRootDir``) is a mount point of its own."""
    root = str(s.info.get("DockerRootDir") or "/var/lib/docker")
    if isinstance(s.mounts, Skipped):
        return warn(f"mount table unknown ({s.mounts.reason}): check that {root} is a separate partition")
    # With userns-remap the root is a per-user subdirectory of the configured root.
    candidates = {root, root.rsplit("/", 1)[0]} if "userns" in str(s.info.get("SecurityOptions")) else {root}
    points = {m.mountpoint: m for m in s.mounts}
    hit = next((points[c] for c in candidates if c in points), None)
    root_fs = points.get("/")
    if hit and root_fs is not None and hit.device == root_fs.device and hit.fstype == root_fs.fstype:
        # dockerd bind-mounts its root onto itself: a mount point, but on the root filesystem's device.
        return failed(f"{hit.mountpoint} is a mount point but on the root filesystem's device {hit.device}: "
                      "not a separate partition")
    if hit:
        return passed(f"{hit.mountpoint} is mounted from {hit.device} ({hit.fstype})")
    parent = max((m for m in s.mounts if root == m.mountpoint or root.startswith(m.mountpoint.rstrip("/") + "/")),
                 key=lambda m: len(m.mountpoint), default=None)
    where = f"{parent.mountpoint} ({parent.device}, {parent.fstype})" if parent else "an unknown filesystem"
    return failed(f"Docker root {root} is not a mount point; it lives on {where}")


@register("check")
@control("host-docker-group", "1.1.2", "Ensure only trusted users are allowed to control Docker daemon",
         level=1, automated=False, scope="host",
         remediation="Remove untrusted users from the docker group (gpasswd -d USER docker); members of the "
                     "group are root-equivalent on the host.",
         rationale="The docker group grants full control of the daemon, hence root on the host.")
def docker_group(s: HostSnapshot) -> Outcome:
    """Members of the host's docker group, for a person to confirm."""
    if isinstance(s.docker_group, Skipped):
        if s.docker_group.reason.startswith("no docker group"):
            return passed("there is no docker group: only root controls the daemon socket")
        return warn(f"docker group unknown ({s.docker_group.reason}): review who can use the Docker socket")
    if not s.docker_group:
        return passed("the docker group has no members")
    return warn(f"docker group members: {names(list(s.docker_group))} — confirm each is trusted (root-equivalent)")


def _audit_check(role: str, what: str, default: str) -> Callable[[HostSnapshot], Outcome]:
    def check(s: HostSnapshot) -> Outcome:
        path = s.paths.get(role, default)
        if isinstance(s.audit, Skipped):
            return warn(f"audit rules unknown ({s.audit.reason}): check that {path} is audited")
        f = s.files.get(path)
        if isinstance(f, HostFile) and not f.exists:
            return not_applicable(f"{path} does not exist on this host")
        rule = audited(s.audit, path)
        if rule:
            return passed(f"{path} is watched by audit rule `{rule}` ({s.audit.source})")
        return failed(f"no audit rule watches {path} ({len(s.audit.rules)} rules from {s.audit.source})")

    check.__doc__ = f"An audit rule watches {what}."
    return check


AUDITED: tuple[tuple[str, str, str, str, str, int], ...] = (
    # id, check name, role, title suffix, default path, level
    ("1.1.3", "host-audit-dockerd", "dockerd", "for the Docker daemon", "/usr/bin/dockerd", 1),
    ("1.1.4", "host-audit-run-containerd", "run-containerd",
     "for Docker files and directories - /run/containerd", "/run/containerd", 1),
    ("1.1.5", "host-audit-docker-root", "docker-root",
     "for Docker files and directories - /var/lib/docker", "/var/lib/docker", 1),
    ("1.1.6", "host-audit-etc-docker", "etc-docker",
     "for Docker files and directories - /etc/docker", "/etc/docker", 1),
    ("1.1.7", "host-audit-docker-service", "docker.service",
     "for Docker files and directories - docker.service", "/lib/systemd/system/docker.service", 2),
    ("1.1.8", "host-audit-containerd-sock", "containerd.sock",
     "for Docker files and directories - containerd.sock", "/run/containerd/containerd.sock", 2),
    ("1.1.9", "host-audit-docker-socket", "docker.socket",
     "for Docker files and directories - docker.socket", "/lib/systemd/system/docker.socket", 2),
    ("1.1.10", "host-audit-default-docker", "default-docker",
     "for Docker files and directories - /etc/default/docker", "/etc/default/docker", 2),
    ("1.1.11", "host-audit-daemon-json", "daemon.json",
     "for Docker files and directories - /etc/docker/daemon.json", "/etc/docker/daemon.json", 2),
    ("1.1.12", "host-audit-containerd-config", "containerd-config",
     "for Docker files and directories - /etc/containerd/config.toml", "/etc/containerd/config.toml", 2),
    ("1.1.13", "host-audit-sysconfig-docker", "sysconfig-docker",
     "for Docker files and directories - /etc/sysconfig/docker", "/etc/sysconfig/docker", 2),
    ("1.1.14", "host-audit-containerd", "containerd",
     "for Docker files and directories - /usr/bin/containerd", "/usr/bin/containerd", 2),
    ("1.1.15", "host-audit-containerd-shim", "containerd-shim",
     "for Docker files and directories - /usr/bin/containerd-shim", "/usr/bin/containerd-shim", 2),
    ("1.1.16", "host-audit-containerd-shim-runc-v1", "containerd-shim-runc-v1",
     "for Docker files and directories - /usr/bin/containerd-shim-runc-v1", "/usr/bin/containerd-shim-runc-v1", 2),
    ("1.1.17", "host-audit-containerd-shim-runc-v2", "containerd-shim-runc-v2",
     "for Docker files and directories - /usr/bin/containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v2", 2),
    ("1.1.18", "host-audit-runc", "runc",
     "for Docker files and directories - /usr/bin/runc", "/usr/bin/runc", 2),
)

MANUAL_AUDITED = frozenset({"1.1.5", "1.1.15", "1.1.16", "1.1.17", "1.1.18"})
"""Audit controls v1.6.0 marks Manual (the others of 1.1.3-1.1.18 are Automated)."""

AUDIT_CHECKS: list[Check] = [
    register("check")(control(
        name, cid, f"Ensure auditing is configured {suffix}", level=level, automated=cid not in MANUAL_AUDITED,
        scope="host",
        remediation=AUDIT_REMEDIATION.format(what=suffix.rsplit(" - ", 1)[-1], path=default),
        rationale=AUDIT_RATIONALE)(_audit_check(role, suffix, default)))
    for cid, name, role, suffix, default, level in AUDITED
]
"""1.1.3-1.1.18: one check per audited path (the path is the only difference between them)."""


@register("check")
@control("host-hardened", "1.2.1", "Ensure the container host has been Hardened", level=1, automated=False,
         scope="host", remediation="Harden the host OS following its own benchmark (CIS Linux benchmarks).",
         rationale="Containers share the host kernel: a weak host weakens every container.")
def host_hardened(s: HostSnapshot) -> Outcome:
    """Manual: the host OS and kernel, for review."""
    return info(f"review the hardening of {s.info.get('OperatingSystem', '?')} "
                f"(kernel {s.info.get('KernelVersion', '?')}) against its own benchmark")


@register("check")
@control("host-docker-up-to-date", "1.2.2", "Ensure that the version of Docker is up to date", level=1,
         automated=False, scope="host",
         remediation="Track Docker releases and your distribution's security updates; upgrade as needed.",
         rationale="Engine updates fix vulnerabilities in the daemon and runtime.")
def docker_up_to_date(s: HostSnapshot) -> Outcome:
    """Manual: the engine, containerd and runc versions, for review."""
    parts = [f"Docker Engine {s.version.get('Version', '?')} (API {s.version.get('ApiVersion', '?')})"]
    for comp in s.version.get("Components") or []:
        if isinstance(comp, dict) and comp.get("Name") in ("containerd", "runc"):
            parts.append(f"{comp['Name']} {comp.get('Version', '?')}")
    return info(", ".join(parts) + ": compare with the current releases of your vendor")
