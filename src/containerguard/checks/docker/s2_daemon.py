"""CIS Docker Benchmark 1.6.0 section 2: Docker daemon configuration.

Facts the engine reports itself (``info``: storage driver, live restore, logging driver, security
options, authorization plugins, the default bridge's options) are preferred: they hold for remote
engines too and cannot disagree with the running daemon. Options only the daemon's command line or
daemon.json show are read from both; when neither could be read the check WARNs, never PASSes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containerguard.checks.base import Outcome, control, failed, info, not_applicable, passed, warn
from containerguard.checks.docker_facts import DaemonConfig, truthy
from containerguard.models.snapshot import HostSnapshot
from containerguard.registry import register

DEFAULT_INSECURE_CIDRS = {"127.0.0.0/8", "::1/128"}
"""Loopback registries the engine always treats as insecure (not a configuration choice)."""
LOCAL_LOG_DRIVERS = {"json-file", "local", "none", "journald"}


def _security_options(s: HostSnapshot) -> list[str]:
    return [str(o) for o in s.info.get("SecurityOptions") or []]


def _unknown(cfg: DaemonConfig, what: str) -> Outcome:
    return warn(f"daemon configuration unknown ({cfg.unknown_reason}): check {what} by hand")


def _default_bridge(s: HostSnapshot) -> Mapping[str, Any] | None:
    for n in s.networks:
        if n.get("Name") == "bridge" and n.get("Driver") == "bridge":
            return n
    return None


@register("check")
@control("daemon-rootless", "2.1", "Run the Docker daemon as a non-root user, if possible", level=1,
         automated=False, scope="daemon",
         remediation="Where the workloads allow it, run the daemon rootless (dockerd-rootless-setuptool.sh).",
         rationale="A rootless daemon limits what a daemon or runtime compromise can reach on the host.")
def rootless(s: HostSnapshot) -> Outcome:
    """Manual: whether the engine reports rootless mode."""
    if "name=rootless" in _security_options(s):
        return passed("the engine runs rootless (SecurityOptions: name=rootless)")
    return info("the daemon runs as root: consider rootless mode where the workloads allow it")


@register("check")
@control("daemon-icc", "2.2", "Ensure network traffic is restricted between containers on the default bridge",
         level=1, automated=False, scope="daemon",
         remediation='Set "icc": false in daemon.json (or dockerd --icc=false) and use user-defined networks '
                     "for containers that must talk.",
         rationale="By default every container on the default bridge can reach every other one.")
def icc(s: HostSnapshot) -> Outcome:
    """The default bridge's ``enable_icc`` option (the engine's own view), else the daemon options."""
    bridge = _default_bridge(s)
    if bridge is not None:
        value = (bridge.get("Options") or {}).get("com.docker.network.bridge.enable_icc")
        if value is not None:
            ev = f"default bridge network option com.docker.network.bridge.enable_icc={value}"
            return passed(ev) if not truthy(value) else failed(ev)
    cfg = DaemonConfig(s)
    setting = cfg.get("icc", "--icc", boolean=True)
    if setting is not None:
        return passed(setting.origin) if not truthy(setting.value) else failed(setting.origin)
    if bridge is None and ("--bridge=none" in cfg.argv or cfg.json.get("bridge") == "none"):
        return not_applicable("the daemon has no default bridge (--bridge=none)")
    if not cfg.known:
        return _unknown(cfg, "that icc is false")
    return failed("icc is not set: inter-container communication on the default bridge is enabled (default)")


@register("check")
@control("daemon-log-level", "2.3", "Ensure the logging level is set to 'info'", level=1, automated=False,
         scope="daemon", remediation='Set "log-level": "info" in daemon.json or run dockerd --log-level=info.',
         rationale="info logs what audits need; debug logs too much, warn or error too little.")
def log_level(s: HostSnapshot) -> Outcome:
    """``log-level`` is info (or unset), and the daemon is not in debug mode."""
    if s.info.get("Debug") is True:
        return failed("the engine reports Debug: true (debug logging)")
    cfg = DaemonConfig(s)
    setting = cfg.get("log-level", "--log-level", "-l")
    if setting is not None:
        ok = str(setting.value).lower() == "info"
        return passed(setting.origin) if ok else failed(setting.origin)
    if not cfg.known:
        return _unknown(cfg, "the log level")
    return passed("log-level is not set (defaults to info)")


@register("check")
@control("daemon-iptables", "2.4", "Ensure Docker is allowed to make changes to iptables", level=1,
         automated=False, scope="daemon",
         remediation="Do not run dockerd with --iptables=false (remove \"iptables\": false from daemon.json).",
         rationale="Docker keeps the firewall consistent with container networking only when it manages iptables.")
def iptables(s: HostSnapshot) -> Outcome:
    """``iptables`` is not disabled."""
    cfg = DaemonConfig(s)
    setting = cfg.get("iptables", "--iptables", boolean=True)
    if setting is not None:
        return passed(setting.origin) if truthy(setting.value) else failed(setting.origin)
    if not cfg.known:
        return _unknown(cfg, "that iptables is not set to false")
    return passed("iptables is not set (defaults to true)")


@register("check")
@control("daemon-insecure-registries", "2.5", "Ensure insecure registries are not used", level=1,
         automated=False, scope="daemon",
         remediation='Remove --insecure-registry flags and "insecure-registries" entries; give registries TLS.',
         rationale="An insecure registry is reached over plain HTTP or unverified TLS: images can be tampered with.")
def insecure_registries(s: HostSnapshot) -> Outcome:
    """No insecure registry beyond the engine's built-in loopback range."""
    registry = s.info.get("RegistryConfig") or {}
    cidrs = [c for c in registry.get("InsecureRegistryCIDRs") or [] if c not in DEFAULT_INSECURE_CIDRS]
    hosts = [name for name, idx in (registry.get("IndexConfigs") or {}).items()
             if isinstance(idx, dict) and idx.get("Secure") is False]
    if cidrs or hosts:
        return failed(f"insecure registries: {', '.join(cidrs + hosts)} (engine RegistryConfig)")
    if not registry:
        cfg = DaemonConfig(s)
        flags = cfg.flag_values("--insecure-registry")
        listed = cfg.json.get("insecure-registries") or []
        if flags or listed:
            return failed(f"insecure registries: {', '.join([*flags, *map(str, listed)])}")
        if not cfg.known:
            return _unknown(cfg, "insecure registries")
    return passed("no insecure registries (engine RegistryConfig; loopback is always insecure by design)")


@register("check")
@control("daemon-no-aufs", "2.6", "Ensure aufs storage driver is not used", level=1, automated=False,
         scope="daemon", remediation="Use overlay2 (or another supported driver) instead of aufs.",
         rationale="aufs is deprecated, unmaintained upstream and has caused kernel crashes.")
def aufs(s: HostSnapshot) -> Outcome:
    """``info.Driver`` is not aufs."""
    driver = s.info.get("Driver")
    if not driver:
        return warn("the engine did not report its storage driver")
    return failed(f"storage driver: {driver}") if driver == "aufs" else passed(f"storage driver: {driver}")


@register("check")
@control("daemon-tls", "2.7", "Ensure TLS authentication for Docker daemon is configured", level=1,
         automated=False, scope="daemon",
         remediation="When the daemon listens on TCP, run it with --tlsverify, --tlscacert, --tlscert and --tlskey.",
         rationale="Without TLS client verification anyone who reaches the TCP port controls the host.")
def tls(s: HostSnapshot) -> Outcome:
    """A TCP listener requires TLS with client verification."""
    if s.docker_host.startswith(("tcp://", "http://")):
        # The SDK spoke plain HTTP to the engine and got answers: its TCP socket has no TLS.
        return failed(f"the engine answered plain HTTP at {s.docker_host}")
    cfg = DaemonConfig(s)
    hosts = cfg.flag_values("-H", "--host") + [str(h) for h in cfg.json.get("hosts") or []]
    tcp = [h for h in hosts if h.startswith("tcp://")]
    if not tcp:
        if not cfg.known:
            return _unknown(cfg, "whether the daemon listens on TCP, and with TLS")
        return not_applicable(f"the daemon does not listen on TCP (hosts: {', '.join(hosts) or 'default socket'})")
    verify = cfg.get("tlsverify", "--tlsverify", boolean=True)
    if verify is not None and truthy(verify.value):
        return passed(f"TCP listener {', '.join(tcp)} with {verify.origin}")
    tls_only = cfg.get("tls", "--tls", boolean=True)
    if tls_only is not None and truthy(tls_only.value):
        return failed(f"TCP listener {', '.join(tcp)} with TLS but no client verification (--tlsverify)")
    return failed(f"TCP listener {', '.join(tcp)} without TLS")


@register("check")
@control("daemon-default-ulimit", "2.8", "Ensure the default ulimit is configured appropriately", level=1,
         automated=False, scope="daemon",
         remediation="Set --default-ulimit (or \"default-ulimits\" in daemon.json) as your policy requires.",
         rationale="Default ulimits bound what a container can consume when it sets none itself.")
def default_ulimit(s: HostSnapshot) -> Outcome:
    """Manual: whether daemon-wide default ulimits are set."""
    cfg = DaemonConfig(s)
    flags = cfg.flag_values("--default-ulimit")
    listed = cfg.json.get("default-ulimits") or {}
    if flags or listed:
        return passed(f"default ulimits: {', '.join(flags) or listed}")
    if not cfg.known:
        return _unknown(cfg, "the default ulimits")
    return info("no default ulimit is set: review whether your workloads need one")


@register("check")
@control("daemon-userns", "2.9", "Enable user namespace support", level=2, automated=False, scope="daemon",
         remediation="Create /etc/subuid and /etc/subgid entries and run dockerd --userns-remap=default.",
         rationale="With user namespace remapping, root in a container is an unprivileged user on the host.")
def userns(s: HostSnapshot) -> Outcome:
    """User namespace remapping is on (``SecurityOptions`` name=userns or the option)."""
    if "name=userns" in _security_options(s):
        return passed("the engine reports SecurityOptions name=userns")
    cfg = DaemonConfig(s)
    setting = cfg.get("userns-remap", "--userns-remap")
    if setting is not None and setting.value:
        return passed(setting.origin)
    if not s.info.get("SecurityOptions") and not cfg.known:
        return _unknown(cfg, "userns-remap")
    return failed(f"user namespace remapping is off (SecurityOptions: {', '.join(_security_options(s)) or 'none'})")


@register("check")
@control("daemon-cgroup-parent", "2.10", "Ensure the default cgroup usage has been confirmed", level=2,
         automated=False, scope="daemon",
         remediation="Leave --cgroup-parent at its default unless a reviewed cgroup layout requires it.",
         rationale="A non-default parent cgroup changes which limits apply to every container.")
def cgroup_parent(s: HostSnapshot) -> Outcome:
    """``cgroup-parent`` is unset (a set one must be confirmed by a person)."""
    cfg = DaemonConfig(s)
    setting = cfg.get("cgroup-parent", "--cgroup-parent")
    if setting is not None and setting.value:
        return warn(f"{setting.origin}: confirm this cgroup and its limits are intended")
    if not cfg.known:
        return _unknown(cfg, "--cgroup-parent")
    return passed("cgroup-parent is not set (default cgroup)")


@register("check")
@control("daemon-base-device-size", "2.11", "Ensure base device size is not changed until needed", level=2,
         automated=False, scope="daemon", remediation="Do not set --storage-opt dm.basesize unless needed.",
         rationale="A larger base device lets containers consume more disk than planned.")
def base_device_size(s: HostSnapshot) -> Outcome:
    """No ``dm.basesize`` storage option."""
    cfg = DaemonConfig(s)
    opts = cfg.flag_values("--storage-opt") + [str(o) for o in cfg.json.get("storage-opts") or []]
    size = [o for o in opts if o.startswith("dm.basesize")]
    if size:
        return failed(f"storage option {size[0]}")
    if not cfg.known:
        return _unknown(cfg, "the storage options (dm.basesize)")
    return passed(f"storage options: {', '.join(opts) or 'none'}")


@register("check")
@control("daemon-authz-plugin", "2.12", "Ensure that authorization for Docker client commands is enabled",
         level=2, automated=False, scope="daemon",
         remediation="Install an authorization plugin and run dockerd --authorization-plugin=PLUGIN.",
         rationale="Without an authorization plugin any client of the socket can run any command.")
def authz_plugin(s: HostSnapshot) -> Outcome:
    """The engine reports an authorization plugin."""
    plugins = (s.info.get("Plugins") or {}).get("Authorization") or []
    if plugins:
        return passed(f"authorization plugins: {', '.join(map(str, plugins))}")
    return failed("no authorization plugin (engine Plugins.Authorization is empty)")


@register("check")
@control("daemon-remote-logging", "2.13", "Ensure centralized and remote logging is configured", level=2,
         automated=False, scope="daemon",
         remediation="Use a remote logging driver, e.g. --log-driver=syslog --log-opt syslog-address=tcp://HOST.",
         rationale="Logs kept only on the host are lost with it and can be altered by an intruder.")
def remote_logging(s: HostSnapshot) -> Outcome:
    """The default logging driver ships logs off the host."""
    driver = s.info.get("LoggingDriver")
    if not driver:
        return warn("the engine did not report its logging driver")
    if driver in LOCAL_LOG_DRIVERS:
        return failed(f"default logging driver {driver} keeps logs on the host")
    return passed(f"default logging driver {driver}")


@register("check")
@control("daemon-no-new-privileges", "2.14", "Ensure containers are restricted from acquiring new privileges",
         level=1, automated=False, scope="daemon",
         remediation='Set "no-new-privileges": true in daemon.json or run dockerd --no-new-privileges.',
         rationale="no_new_privs stops setuid binaries from raising a container process's privileges.")
def daemon_no_new_privileges(s: HostSnapshot) -> Outcome:
    """``no-new-privileges`` is on daemon-wide."""
    cfg = DaemonConfig(s)
    setting = cfg.get("no-new-privileges", "--no-new-privileges", boolean=True)
    if setting is not None:
        return passed(setting.origin) if truthy(setting.value) else failed(setting.origin)
    if not cfg.known:
        return _unknown(cfg, "no-new-privileges")
    return failed("no-new-privileges is not set daemon-wide (default false)")


@register("check")
@control("daemon-live-restore", "2.15", "Ensure live restore is enabled", level=1, automated=False,
         scope="daemon", remediation='Set "live-restore": true in daemon.json or run dockerd --live-restore.',
         rationale="Live restore keeps containers running while the daemon restarts or is upgraded.")
def live_restore(s: HostSnapshot) -> Outcome:
    """``info.LiveRestoreEnabled`` (not applicable in swarm mode, where it is incompatible)."""
    if (s.info.get("Swarm") or {}).get("LocalNodeState") == "active":
        return not_applicable("swarm mode is active; live restore is incompatible with it")
    value = s.info.get("LiveRestoreEnabled")
    if value is None:
        return warn("the engine did not report LiveRestoreEnabled")
    return passed("LiveRestoreEnabled: true") if value else failed("LiveRestoreEnabled: false")


@register("check")
@control("daemon-userland-proxy", "2.16", "Ensure Userland Proxy is Disabled", level=1, automated=False,
         scope="daemon",
         remediation='Set "userland-proxy": false in daemon.json or run dockerd --userland-proxy=false.',
         rationale="The userland proxy is an extra process per published port; hairpin NAT does the same job.")
def userland_proxy(s: HostSnapshot) -> Outcome:
    """``userland-proxy`` is false."""
    cfg = DaemonConfig(s)
    setting = cfg.get("userland-proxy", "--userland-proxy", boolean=True)
    if setting is not None:
        return passed(setting.origin) if not truthy(setting.value) else failed(setting.origin)
    if not cfg.known:
        return _unknown(cfg, "that userland-proxy is false")
    return failed("userland-proxy is not set (defaults to true)")


@register("check")
@control("daemon-seccomp-profile", "2.17", "Ensure that a daemon-wide custom seccomp profile is applied if appropriate",
         level=2, automated=False, scope="daemon",
         remediation="If the default profile does not fit, set --seccomp-profile to a reviewed custom profile.",
         rationale="A custom seccomp profile can narrow the syscalls containers may use below Docker's default.")
def seccomp_profile(s: HostSnapshot) -> Outcome:
    """Manual: which seccomp profile the engine applies by default."""
    opts = [o for o in _security_options(s) if o.startswith("name=seccomp")]
    if not opts:
        return warn("the engine reports no seccomp support: containers run without syscall filtering")
    if any("profile=default" in o for o in opts):
        return info(f"{opts[0]}: Docker's default profile; apply a custom one only if appropriate")
    return passed(f"custom daemon-wide seccomp profile: {opts[0]}")


@register("check")
@control("daemon-experimental", "2.18", "Ensure that experimental features are not implemented in production",
         level=1, automated=False, scope="daemon",
         remediation="Do not run dockerd with --experimental on production systems.",
         rationale="Experimental features are not stable and not supported for production.")
def experimental(s: HostSnapshot) -> Outcome:
    """``info.ExperimentalBuild`` is false."""
    value = s.info.get("ExperimentalBuild")
    if value is None:
        return warn("the engine did not report ExperimentalBuild")
    return failed("ExperimentalBuild: true") if value else passed("ExperimentalBuild: false")
