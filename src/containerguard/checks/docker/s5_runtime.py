"""CIS Docker Benchmark 1.6.0 section 5: container runtime, one result per container.

Each check reads one or two fields of the container inspect; the evidence names the field and its value.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from containerguard.checks.base import Outcome, control, failed, info, not_applicable, passed, warn
from containerguard.checks.docker_facts import Container, DaemonConfig, Image, truthy
from containerguard.models.snapshot import HostSnapshot, Skipped
from containerguard.registry import register

DEFAULT_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
"""Capabilities Docker grants by default: adding them back changes nothing."""
SENSITIVE_DIRS = ("/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr")
WILDCARD_IPS = {"", "0.0.0.0", "::"}


def _security_options(s: HostSnapshot) -> str:
    return " ".join(str(o) for o in s.info.get("SecurityOptions") or [])


@register("check")
@control("swarm-mode-needed", "5.1", "Ensure swarm mode is not Enabled, if not needed", level=1, automated=False,
         scope="swarm", remediation="If swarm mode is not needed: docker swarm leave.",
         rationale="Swarm mode opens management ports and runs extra services on the host.")
def swarm_mode(s: HostSnapshot) -> Outcome:
    """Swarm mode is inactive (active: a person confirms it is needed)."""
    swarm = s.info.get("Swarm") or {}
    state = swarm.get("LocalNodeState")
    if state is None:
        return warn("the engine did not report its swarm state")
    if state in ("inactive", ""):
        return passed("swarm mode is inactive")
    role = "manager" if swarm.get("ControlAvailable") else "worker"
    return warn(f"swarm mode is {state} (this node is a {role}): confirm swarm is needed on this host")


@register("check")
@control("container-apparmor", "5.2", "Ensure that, if applicable, an AppArmor Profile is enabled", level=1,
         automated=False, scope="container",
         remediation="Run containers with an AppArmor profile (the default docker-default, or --security-opt "
                     "apparmor=PROFILE); never apparmor=unconfined.",
         rationale="AppArmor confines what a container's processes may do on the host.")
def apparmor(c: Container, s: HostSnapshot) -> Outcome:
    """``AppArmorProfile`` is set and not unconfined (when the host supports AppArmor)."""
    if "name=apparmor" not in _security_options(s):
        return not_applicable("the engine does not report AppArmor support on this host")
    profile = str(c.raw.get("AppArmorProfile") or "")
    if not profile or profile == "unconfined":
        return failed(f"AppArmorProfile is {profile or 'empty'}")
    return passed(f"AppArmorProfile: {profile}")


@register("check")
@control("container-selinux", "5.3", "Ensure that, if applicable, SELinux security options are set", level=2,
         automated=False, scope="container",
         remediation="Run dockerd --selinux-enabled and containers with --security-opt label=... as needed.",
         rationale="SELinux labels confine containers beyond discretionary permissions.")
def selinux(c: Container, s: HostSnapshot) -> Outcome:
    """SELinux labels are set (when the engine runs with SELinux)."""
    if "name=selinux" not in _security_options(s):
        return not_applicable("the engine does not run with SELinux enabled")
    labels = [o for o in c.security_opt() if o.startswith("label")]
    if any("disable" in o for o in labels):
        return failed(f"SecurityOpt: {', '.join(labels)}")
    return passed(f"SELinux enabled; labels: {', '.join(labels) or 'engine default'} "
                  f"(MountLabel {c.raw.get('MountLabel') or '-'}, ProcessLabel {c.raw.get('ProcessLabel') or '-'})")


@register("check")
@control("container-capabilities", "5.4", "Ensure that Linux kernel capabilities are restricted within containers",
         level=1, automated=False, scope="container",
         remediation="Do not add capabilities beyond Docker's default set; drop those not needed (--cap-drop).",
         rationale="Extra capabilities such as SYS_ADMIN give a container powers close to root on the host.")
def capabilities(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.CapAdd`` adds nothing beyond Docker's defaults."""
    added = [str(x).upper().removeprefix("CAP_") for x in c.host("CapAdd") or []]
    extra = [x for x in added if x not in DEFAULT_CAPS]
    dropped = ", ".join(str(x) for x in c.host("CapDrop") or []) or "none"
    if extra:
        return failed(f"CapAdd: {', '.join(extra)} (CapDrop: {dropped})")
    return passed(f"no capability added beyond the defaults (CapDrop: {dropped})")


@register("check")
@control("container-privileged", "5.5", "Ensure that privileged containers are not used", level=1,
         automated=False, scope="container",
         remediation="Do not run containers with --privileged; add only the capabilities and devices needed.",
         rationale="A privileged container has every capability and device: it is root on the host.")
def privileged(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.Privileged`` is false."""
    if c.host("Privileged"):
        return failed("HostConfig.Privileged: true")
    return passed("HostConfig.Privileged: false")


@register("check")
@control("container-sensitive-mounts", "5.6", "Ensure sensitive host system directories are not mounted on containers",
         level=1, automated=False, scope="container",
         remediation="Do not bind-mount /, /boot, /dev, /etc, /lib, /proc, /sys or /usr (or below) read-write.",
         rationale="Writing host system directories from a container changes the host.")
def sensitive_mounts(c: Container, s: HostSnapshot) -> Outcome:
    """No read-write bind mount of a host system directory."""
    bad = []
    for m in c.mounts:
        src = os.path.normpath(str(m.get("Source") or "/")) if m.get("Type", "bind") == "bind" else ""
        if not src or not m.get("RW", True):
            continue
        if src == "/" or any(src == d or src.startswith(d + "/") for d in SENSITIVE_DIRS):
            bad.append(f"{src} -> {m.get('Destination')} (rw)")
    if bad:
        return failed(f"sensitive host paths mounted read-write: {', '.join(bad)}")
    return passed(f"{len(c.mounts)} mounts, none a host system directory read-write")


@register("check")
@control("container-no-sshd", "5.7", "Ensure sshd is not run within containers", level=1, automated=False,
         scope="container", remediation="Remove sshd from the image; use docker exec to get a shell.",
         rationale="An SSH daemon in a container is another service to secure, patch and audit.")
def no_sshd(c: Container, s: HostSnapshot) -> Outcome:
    """No process of the container is sshd."""
    if not c.running:
        return not_applicable("the container is not running: it has no processes")
    procs = s.processes.get(c.id)
    if procs is None:
        return warn("the container's processes were not collected: check for sshd with docker top")
    if isinstance(procs, Skipped):
        return warn(f"the container's processes are unknown ({procs.reason}): check for sshd with docker top")
    ssh = [p for p in procs if os.path.basename(p.split(" ", 1)[0]).startswith("sshd")]
    if ssh:
        return failed(f"sshd runs in the container: {ssh[0][:120]}")
    return passed(f"{len(procs)} processes, none is sshd")


@register("check")
@control("container-privileged-ports", "5.8", "Ensure privileged ports are not mapped within containers", level=1,
         automated=False, scope="container",
         remediation="Publish container ports on host ports above 1024.",
         rationale="Ports below 1024 are reserved for privileged services on the host.")
def privileged_ports(c: Container, s: HostSnapshot) -> Outcome:
    """No published host port below 1025."""
    low = [f"{ip or '*'}:{hp}->{cp}" for cp, ip, hp in c.port_bindings() if hp.isdigit() and int(hp) < 1025]
    if low:
        return failed(f"privileged host ports: {', '.join(low)}")
    return passed(f"{len(c.port_bindings())} published ports, none below 1025")


@register("check")
@control("container-open-ports", "5.9", "Ensure that only needed ports are open on the container", level=1,
         automated=False, scope="container",
         remediation="Publish only the ports the service needs (no -P on images with many EXPOSEs).",
         rationale="Every published port is reachable attack surface.")
def open_ports(c: Container, s: HostSnapshot) -> Outcome:
    """Manual: the published ports, for review."""
    ports = c.port_bindings()
    if not ports:
        return passed("no published ports")
    shown = ", ".join(f"{ip or '*'}:{hp}->{cp}" for cp, ip, hp in ports)
    return info(f"published ports: {shown} — confirm each is needed")


def _namespace_check(field: str, what: str) -> Callable[[Container, HostSnapshot], Outcome]:
    def check(c: Container, s: HostSnapshot) -> Outcome:
        mode = str(c.host(field) or "")
        if mode == "host":
            return failed(f"HostConfig.{field}: host (shares the host's {what} namespace)")
        return passed(f"HostConfig.{field}: {mode or 'private (default)'}")

    check.__doc__ = f"``HostConfig.{field}`` is not host."
    return check


register("check")(control(
    "container-host-network", "5.10", "Ensure that the host's network namespace is not shared", level=1,
    automated=False, scope="container", remediation="Do not run containers with --network host.",
    rationale="With the host's network namespace a container can bind host ports and see host traffic.")(
    _namespace_check("NetworkMode", "network")))


@register("check")
@control("container-memory-limit", "5.11", "Ensure that the memory usage for containers is limited", level=1,
         automated=False, scope="container", remediation="Run containers with --memory (and --memory-swap).",
         rationale="Without a limit one container can exhaust the host's memory.")
def memory_limit(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.Memory`` is set."""
    memory = c.host("Memory") or 0
    if not memory:
        return failed("HostConfig.Memory: 0 (no limit)")
    return passed(f"HostConfig.Memory: {memory} bytes")


@register("check")
@control("container-cpu-priority", "5.12", "Ensure that CPU priority is set appropriately on containers", level=1,
         automated=False, scope="container", remediation="Run containers with --cpu-shares or --cpus.",
         rationale="Without CPU shares or quotas every container competes equally for the host's CPU.")
def cpu_priority(c: Container, s: HostSnapshot) -> Outcome:
    """CPU shares, quota or NanoCpus are set."""
    shares, nano, quota = c.host("CpuShares") or 0, c.host("NanoCpus") or 0, c.host("CpuQuota") or 0
    ev = f"HostConfig.CpuShares: {shares}, NanoCpus: {nano}, CpuQuota: {quota}"
    if not (shares or nano or quota):
        return failed(ev)
    return passed(ev)


@register("check")
@control("container-readonly-rootfs", "5.13", "Ensure that the container's root filesystem is mounted as read only",
         level=1, automated=False, scope="container",
         remediation="Run containers with --read-only and mount writable volumes or tmpfs where needed.",
         rationale="A read-only root filesystem stops an intruder from changing the container's binaries.")
def readonly_rootfs(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.ReadonlyRootfs`` is true."""
    if c.host("ReadonlyRootfs"):
        return passed("HostConfig.ReadonlyRootfs: true")
    return failed("HostConfig.ReadonlyRootfs: false (writable root filesystem)")


@register("check")
@control("container-bound-interface", "5.14",
         "Ensure that incoming container traffic is bound to a specific host interface",
         level=1, automated=False, scope="container",
         remediation="Publish ports on a specific address: -p 10.0.0.5:8080:80.",
         rationale="A port published on every interface is reachable from every network the host is on.")
def bound_interface(c: Container, s: HostSnapshot) -> Outcome:
    """No published port listens on every interface."""
    wild = [f"{ip or '*'}:{hp}->{cp}" for cp, ip, hp in c.port_bindings() if ip in WILDCARD_IPS]
    if wild:
        return failed(f"ports published on all interfaces: {', '.join(wild)}")
    return passed(f"{len(c.port_bindings())} published ports, each on a specific address")


@register("check")
@control("container-restart-policy", "5.15", "Ensure that the 'on-failure' container restart policy is set to '5'",
         level=1, automated=False, scope="container",
         remediation="Use --restart on-failure:5 instead of always or unless-stopped.",
         rationale="Endless restarts hide failures and can be used to exhaust the host.")
def restart_policy(c: Container, s: HostSnapshot) -> Outcome:
    """Restart policy is no, or on-failure with at most 5 retries."""
    policy = c.host("RestartPolicy") or {}
    name = str(policy.get("Name") or "no")
    retries = int(policy.get("MaximumRetryCount") or 0)
    ev = f"RestartPolicy: {name}" + (f":{retries}" if name == "on-failure" else "")
    if name in ("always", "unless-stopped") or (name == "on-failure" and (retries == 0 or retries > 5)):
        return failed(ev)
    return passed(ev)


register("check")(control(
    "container-host-pid", "5.16", "Ensure that the host's process namespace is not shared", level=1,
    automated=False, scope="container", remediation="Do not run containers with --pid host.",
    rationale="With the host's PID namespace a container sees and can signal every host process.")(
    _namespace_check("PidMode", "process")))

register("check")(control(
    "container-host-ipc", "5.17", "Ensure that the host's IPC namespace is not shared", level=1,
    automated=False, scope="container", remediation="Do not run containers with --ipc host.",
    rationale="With the host's IPC namespace a container can read and alter host shared memory.")(
    _namespace_check("IpcMode", "IPC")))


@register("check")
@control("container-host-devices", "5.18", "Ensure that host devices are not directly exposed to containers",
         level=1, automated=False, scope="container",
         remediation="Do not pass host devices (--device) unless needed, and then with only the permissions "
                     "needed (r, w, m).",
         rationale="A host device in a container can be used to reach the host's hardware or data.")
def host_devices(c: Container, s: HostSnapshot) -> Outcome:
    """Manual: devices passed to the container, for review."""
    devices = [f"{d.get('PathOnHost')}->{d.get('PathInContainer')}:{d.get('CgroupPermissions')}"
               for d in c.host("Devices") or [] if isinstance(d, dict)]
    if devices:
        return warn(f"host devices: {', '.join(devices)} — confirm each is needed")
    return passed("HostConfig.Devices: none")


@register("check")
@control("container-ulimits", "5.19", "Ensure that the default ulimit is overwritten at runtime if needed",
         level=1, automated=False, scope="container",
         remediation="Set --ulimit per container where the daemon default does not fit.",
         rationale="ulimits bound the resources (files, processes) a container can hold.")
def ulimits(c: Container, s: HostSnapshot) -> Outcome:
    """Manual: per-container ulimits."""
    limits = [f"{u.get('Name')}={u.get('Soft')}:{u.get('Hard')}"
              for u in c.host("Ulimits") or [] if isinstance(u, dict)]
    if limits:
        return passed(f"HostConfig.Ulimits: {', '.join(limits)}")
    return info("no per-container ulimit: the daemon defaults apply — confirm they fit")


@register("check")
@control("container-mount-propagation", "5.20", "Ensure mount propagation mode is not set to shared", level=1,
         automated=False, scope="container", remediation="Do not mount volumes with shared or rshared propagation.",
         rationale="Shared propagation lets mounts made in the container appear on the host, and the reverse.")
def mount_propagation(c: Container, s: HostSnapshot) -> Outcome:
    """No mount has shared propagation."""
    shared = [f"{m.get('Source')} ({m.get('Propagation')})" for m in c.mounts
              if str(m.get("Propagation") or "") in ("shared", "rshared")]
    if shared:
        return failed(f"shared mount propagation: {', '.join(shared)}")
    return passed(f"{len(c.mounts)} mounts, none shared")


register("check")(control(
    "container-host-uts", "5.21", "Ensure that the host's UTS namespace is not shared", level=1,
    automated=False, scope="container", remediation="Do not run containers with --uts host.",
    rationale="With the host's UTS namespace a container can change the host's hostname.")(
    _namespace_check("UTSMode", "UTS")))


@register("check")
@control("container-seccomp", "5.22", "Ensure the default seccomp profile is not Disabled", level=1,
         automated=False, scope="container",
         remediation="Do not run containers with --security-opt seccomp=unconfined.",
         rationale="seccomp filters the syscalls a container can make; unconfined opens all of them.")
def seccomp(c: Container, s: HostSnapshot) -> Outcome:
    """``SecurityOpt`` does not disable seccomp."""
    off = [o for o in c.security_opt() if o.replace("=", ":") == "seccomp:unconfined"]
    if off:
        return failed(f"SecurityOpt: {off[0]}")
    custom = [o for o in c.security_opt() if o.startswith("seccomp")]
    return passed(f"seccomp: {'custom profile' if custom else 'default profile'}")


@register("check")
@control("container-exec-privileged", "5.23",
         "Ensure that docker exec commands are not used with the privileged option",
         level=2, automated=False, scope="container", remediation="Do not use docker exec --privileged.",
         rationale="A privileged exec session has every capability, whatever the container was started with.")
def exec_privileged(c: Container, s: HostSnapshot) -> Outcome:
    """No exec session the engine knows of ran privileged."""
    execs = s.execs.get(c.id, ())
    bad = [str((e.get("ProcessConfig") or {}).get("entrypoint") or e.get("ID", ""))[:60]
           for e in execs if e.get("Privileged")]
    if bad:
        return failed(f"privileged exec sessions: {', '.join(bad)}")
    return passed(f"{len(execs)} exec sessions known to the engine, none privileged "
                  "(the engine keeps sessions only while the container exists)")


@register("check")
@control("container-exec-root", "5.24", "Ensure that docker exec commands are not used with the user=root option",
         level=2, automated=False, scope="container", remediation="Do not use docker exec --user root.",
         rationale="Exec sessions as root bypass the user the container was designed to run as.")
def exec_root(c: Container, s: HostSnapshot) -> Outcome:
    """Manual: exec sessions run as root, for review."""
    execs = s.execs.get(c.id, ())
    root = [str(e.get("ID", ""))[:12] for e in execs
            if str((e.get("ProcessConfig") or {}).get("user") or "") in ("root", "0")]
    if root:
        return warn(f"exec sessions as root: {', '.join(root)} — review why")
    return passed(f"{len(execs)} exec sessions known to the engine, none with --user root")


@register("check")
@control("container-cgroup", "5.25", "Ensure that cgroup usage is confirmed", level=1, automated=False,
         scope="container", remediation="Do not set --cgroup-parent unless a reviewed cgroup layout requires it.",
         rationale="A custom parent cgroup changes which resource limits apply to the container.")
def cgroup(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.CgroupParent`` is unset (a set one must be confirmed)."""
    parent = str(c.host("CgroupParent") or "")
    if parent:
        return warn(f"HostConfig.CgroupParent: {parent} — confirm it is intended")
    return passed("HostConfig.CgroupParent: default")


@register("check")
@control("container-no-new-privileges", "5.26",
         "Ensure that the container is restricted from acquiring additional privileges", level=1, automated=False,
         scope="container", remediation="Run containers with --security-opt no-new-privileges "
                                        "(or the daemon with --no-new-privileges).",
         rationale="no_new_privs stops setuid binaries from raising the container processes' privileges.")
def no_new_privileges(c: Container, s: HostSnapshot) -> Outcome:
    """``no-new-privileges`` is set on the container or daemon-wide."""
    opts = [o for o in c.security_opt() if o.startswith("no-new-privileges")]
    if opts:
        value = opts[-1].replace("=", ":").split(":", 1)
        if len(value) == 1 or truthy(value[1]):
            return passed(f"SecurityOpt: {opts[-1]}")
        return failed(f"SecurityOpt: {opts[-1]}")
    daemon = DaemonConfig(s).get("no-new-privileges", "--no-new-privileges", boolean=True)
    if daemon is not None and truthy(daemon.value):
        return passed(f"daemon-wide: {daemon.origin}")
    return failed("no-new-privileges is set neither on the container nor daemon-wide")


@register("check")
@control("container-health", "5.27", "Ensure that container health is checked at runtime", level=1,
         automated=False, scope="container",
         remediation="Give the image a HEALTHCHECK or run the container with --health-cmd.",
         rationale="Without a health check a hung service looks healthy to the engine.")
def health(c: Container, s: HostSnapshot) -> Outcome:
    """The container has a health check (its own or its image's)."""
    test = (c.config.get("Healthcheck") or {}).get("Test")
    status = (c.state.get("Health") or {}).get("Status")
    if test and test != ["NONE"]:
        return passed(f"health check {' '.join(map(str, test))}" + (f", status {status}" if status else ""))
    return failed("no health check (Config.Healthcheck unset or NONE)")


@register("check")
@control("container-latest-image", "5.28",
         "Ensure that Docker commands always make use of the latest version of their image",
         level=1, automated=False, scope="container",
         remediation="Pull images before (re)creating containers and recreate containers when their image is updated.",
         rationale="A container keeps running the image it was created from, even after its tag was updated.")
def latest_image(c: Container, s: HostSnapshot) -> Outcome:
    """Manual: whether the container's tag now points to a different image than the one it runs."""
    ref = c.image
    running_id = str(c.raw.get("Image") or "")
    tagged = [Image(i) for i in s.images
              if ref in (i.inspect.get("RepoTags") or []) or f"{ref}:latest" in (i.inspect.get("RepoTags") or [])]
    if not tagged:
        return info(f"image {ref} is not tagged on this host: cannot compare with its latest version")
    if tagged[0].id != running_id:
        return warn(f"{ref} now points to {tagged[0].id[:19]}, the container runs {running_id[:19]}: recreate it")
    return passed(f"runs the image {ref} currently points to ({running_id[:19]})")


@register("check")
@control("container-pids-limit", "5.29", "Ensure that the PIDs cgroup limit is used", level=1, automated=False,
         scope="container", remediation="Run containers with --pids-limit.",
         rationale="A PIDs limit stops fork bombs from exhausting the host's process table.")
def pids_limit(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.PidsLimit`` is a positive number."""
    limit = c.host("PidsLimit")
    if not limit or int(limit) <= 0:
        return failed(f"HostConfig.PidsLimit: {limit} (no limit)")
    return passed(f"HostConfig.PidsLimit: {limit}")


@register("check")
@control("container-docker0", "5.30", 'Ensure that Docker\'s default bridge "docker0" is not used', level=2,
         automated=False, scope="container",
         remediation="Attach containers to user-defined networks instead of the default bridge.",
         rationale="All containers on docker0 share one network without isolation between them.")
def docker0(c: Container, s: HostSnapshot) -> Outcome:
    """The container is not attached to the default bridge network."""
    networks = (c.raw.get("NetworkSettings") or {}).get("Networks") or {}
    if "bridge" in networks:
        return warn("attached to the default bridge network (docker0): review whether a user-defined network fits")
    return passed(f"networks: {', '.join(networks) or 'none'}")


@register("check")
@control("container-host-userns", "5.31", "Ensure that the host's user namespaces are not shared", level=1,
         automated=False, scope="container", remediation="Do not run containers with --userns host.",
         rationale="Sharing the host's user namespace undoes user namespace remapping for the container.")
def host_userns(c: Container, s: HostSnapshot) -> Outcome:
    """``HostConfig.UsernsMode`` is not host."""
    mode = str(c.host("UsernsMode") or "")
    if mode == "host":
        return failed("HostConfig.UsernsMode: host")
    return passed(f"HostConfig.UsernsMode: {mode or 'default'}")


@register("check")
@control("container-docker-socket", "5.32", "Ensure that the Docker socket is not mounted inside any containers",
         level=1, automated=False, scope="container",
         remediation="Do not mount the Docker socket into containers.",
         rationale="Whoever can reach the Docker socket controls the daemon, hence the host.")
def docker_socket(c: Container, s: HostSnapshot) -> Outcome:
    """No mount of a docker.sock (or the daemon socket's actual path)."""
    sock = s.paths.get("docker.sock", "/var/run/docker.sock")
    hits = [f"{m.get('Source')} -> {m.get('Destination')}" for m in c.mounts
            if "docker.sock" in str(m.get("Source") or "") or "docker.sock" in str(m.get("Destination") or "")
            or str(m.get("Source") or "") == sock]
    if hits:
        return failed(f"Docker socket mounted: {', '.join(hits)}")
    return passed(f"{len(c.mounts)} mounts, none is the Docker socket")
