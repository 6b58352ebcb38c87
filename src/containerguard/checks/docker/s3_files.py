"""CIS Docker Benchmark 1.6.0 section 3: ownership and permissions of the daemon's files.

Every control is "this file is owned by U:G" or "this file's mode is at most M", on a path the
collector resolved (systemd's unit paths, the configured TLS files, the socket actually served...).
A file that does not exist is NOT_APPLICABLE; one that could not be read is a WARN with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from containerguard.checks.base import Check, Outcome, control, failed, not_applicable, passed, warn
from containerguard.checks.docker_facts import describe_file
from containerguard.models.snapshot import HostFile, HostSnapshot, Skipped
from containerguard.registry import register


def _targets(s: HostSnapshot, role: str) -> list[HostFile] | Outcome:
    """The files a control looks at, or the outcome when there is nothing to look at."""
    if role == "registry-certs":
        if isinstance(s.registry_certs, Skipped):
            return warn(f"registry certificates unknown ({s.registry_certs.reason})")
        if not s.registry_certs:
            return not_applicable("no registry certificates under /etc/docker/certs.d")
        paths = list(s.registry_certs)
    else:
        path = s.paths.get(role)
        if path is None:
            if not s.local:
                return warn(f"host files were not collected ({s.docker_host} is remote): check {role} on that host")
            return not_applicable(f"no {role} file is configured")
        paths = [path]
    files: list[HostFile] = []
    for path in paths:
        f = s.files.get(path)
        if f is None:
            return warn(f"{path} was not collected: check it by hand")
        if isinstance(f, Skipped):
            return warn(f"{f.reason}: check {path} by hand")
        if f.exists:
            files.append(f)
    if not files:
        return not_applicable(f"{', '.join(paths)} does not exist")
    return files


def _owner_check(role: str, user: str, groups: tuple[str, ...]) -> Callable[[HostSnapshot], Outcome]:
    def check(s: HostSnapshot) -> Outcome:
        files = _targets(s, role)
        if isinstance(files, Outcome):
            return files
        # uid 0 / gid 0 are root whatever the name database says; other names come from the host.
        bad = [f for f in files
               if not ((f.uid == 0 if user == "root" else f.owner == user)
                       and any((f.gid == 0 if g == "root" else f.group == g) for g in groups))]
        if bad:
            return failed("; ".join(describe_file(f) for f in bad))
        return passed("; ".join(describe_file(f) for f in files))

    return check


def _mode_check(role: str, most: int) -> Callable[[HostSnapshot], Outcome]:
    def check(s: HostSnapshot) -> Outcome:
        files = _targets(s, role)
        if isinstance(files, Outcome):
            return files
        # "M or more restrictive": no permission bit (nor setuid/setgid/sticky) outside M.
        bad = [f for f in files if f.mode & ~most]
        if bad:
            return failed("; ".join(f"{describe_file(f)} (allowed at most {most:04o})" for f in bad))
        return passed("; ".join(describe_file(f) for f in files))

    return check


FILE_CONTROLS: tuple[tuple[str, str, str, str, str, int | tuple[str, str]], ...] = (
    # id, check name, role, title, remediation, owner (user, group) or most permissive mode
    ("3.1", "files-docker-service-owner", "docker.service",
     "Ensure that the docker.service file ownership is set to root:root",
     "chown root:root on the docker.service unit file (systemctl show -p FragmentPath docker.service).",
     ("root", "root")),
    ("3.2", "files-docker-service-mode", "docker.service",
     "Ensure that docker.service file permissions are appropriately set",
     "chmod 644 the docker.service unit file.", 0o644),
    ("3.3", "files-docker-socket-unit-owner", "docker.socket",
     "Ensure that docker.socket file ownership is set to root:root",
     "chown root:root on the docker.socket unit file.", ("root", "root")),
    ("3.4", "files-docker-socket-unit-mode", "docker.socket",
     "Ensure that docker.socket file permissions are set to 644 or more restrictive",
     "chmod 644 the docker.socket unit file.", 0o644),
    ("3.5", "files-etc-docker-owner", "etc-docker",
     "Ensure that the /etc/docker directory ownership is set to root:root",
     "chown root:root /etc/docker", ("root", "root")),
    ("3.6", "files-etc-docker-mode", "etc-docker",
     "Ensure that /etc/docker directory permissions are set to 755 or more restrictively",
     "chmod 755 /etc/docker", 0o755),
    ("3.7", "files-registry-certs-owner", "registry-certs",
     "Ensure that registry certificate file ownership is set to root:root",
     "chown root:root /etc/docker/certs.d/<registry-name>/*", ("root", "root")),
    ("3.8", "files-registry-certs-mode", "registry-certs",
     "Ensure that registry certificate file permissions are set to 444 or more restrictively",
     "chmod 444 /etc/docker/certs.d/<registry-name>/*", 0o444),
    ("3.9", "files-tls-ca-owner", "tlscacert",
     "Ensure that TLS CA certificate file ownership is set to root:root",
     "chown root:root on the file given by --tlscacert.", ("root", "root")),
    ("3.10", "files-tls-ca-mode", "tlscacert",
     "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively",
     "chmod 444 the file given by --tlscacert.", 0o444),
    ("3.11", "files-tls-cert-owner", "tlscert",
     "Ensure that Docker server certificate file ownership is set to root:root",
     "chown root:root on the file given by --tlscert.", ("root", "root")),
    ("3.12", "files-tls-cert-mode", "tlscert",
     "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively",
     "chmod 444 the file given by --tlscert.", 0o444),
    ("3.13", "files-tls-key-owner", "tlskey",
     "Ensure that the Docker server certificate key file ownership is set to root:root",
     "chown root:root on the file given by --tlskey.", ("root", "root")),
    ("3.14", "files-tls-key-mode", "tlskey",
     "Ensure that the Docker server certificate key file permissions are set to 400",
     "chmod 400 the file given by --tlskey.", 0o400),
    ("3.15", "files-docker-sock-owner", "docker.sock",
     "Ensure that the Docker socket file ownership is set to root:docker",
     "chown root:docker on the Docker socket (/var/run/docker.sock).", ("root", "docker")),
    ("3.16", "files-docker-sock-mode", "docker.sock",
     "Ensure that the Docker socket file permissions are set to 660 or more restrictively",
     "chmod 660 the Docker socket (/var/run/docker.sock).", 0o660),
    ("3.17", "files-daemon-json-owner", "daemon.json",
     "Ensure that the daemon.json file ownership is set to root:root",
     "chown root:root /etc/docker/daemon.json", ("root", "root")),
    ("3.18", "files-daemon-json-mode", "daemon.json",
     "Ensure that daemon.json file permissions are set to 644 or more restrictive",
     "chmod 644 /etc/docker/daemon.json", 0o644),
    ("3.19", "files-default-docker-owner", "default-docker",
     "Ensure that the /etc/default/docker file ownership is set to root:root",
     "chown root:root /etc/default/docker", ("root", "root")),
    ("3.20", "files-default-docker-mode", "default-docker",
     "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively",
     "chmod 644 /etc/default/docker", 0o644),
    ("3.21", "files-sysconfig-docker-mode", "sysconfig-docker",
     "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively",
     "chmod 644 /etc/sysconfig/docker", 0o644),
    ("3.22", "files-sysconfig-docker-owner", "sysconfig-docker",
     "Ensure that the /etc/sysconfig/docker file ownership is set to root:root",
     "chown root:root /etc/sysconfig/docker", ("root", "root")),
    ("3.23", "files-containerd-sock-owner", "containerd.sock",
     "Ensure that the Containerd socket file ownership is set to root:root",
     "chown root:root /run/containerd/containerd.sock", ("root", "root")),
    ("3.24", "files-containerd-sock-mode", "containerd.sock",
     "Ensure that the Containerd socket file permissions are set to 660 or more restrictively",
     "chmod 660 /run/containerd/containerd.sock", 0o660),
)

RATIONALE = ("Whoever can write the daemon's configuration, unit files, certificates or sockets can "
             "reconfigure or take over the daemon, hence the host.")


AUTOMATED = frozenset({"3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.15", "3.16", "3.23", "3.24"})
"""Automated in v1.6.0; the certificate, key, daemon.json and defaults-file controls are Manual."""
LEVEL_2 = frozenset({"3.17", "3.18", "3.19", "3.20", "3.21", "3.22"})
"""Level 2 in v1.6.0: daemon.json, /etc/default/docker and /etc/sysconfig/docker; the others are Level 1."""


def _build(cid: str, name: str, role: str, title: str, remediation: str, rule: int | tuple[str, str]) -> Check:
    fn = _owner_check(role, rule[0], (rule[1],)) if isinstance(rule, tuple) else _mode_check(role, rule)
    fn.__doc__ = title
    level = 2 if cid in LEVEL_2 else 1
    made: Check = register("check")(control(name, cid, title, level=level, automated=cid in AUTOMATED, scope="host",
                                            remediation=remediation, rationale=RATIONALE)(fn))
    return made


FILE_CHECKS: list[Check] = [_build(*row) for row in FILE_CONTROLS]
"""3.1-3.24, one check per (file, owner or mode) pair."""
