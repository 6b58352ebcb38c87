"""CIS Docker Benchmark 1.6.0 section 7: Docker swarm configuration (not applicable outside swarm mode)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containerguard.checks.base import Outcome, control, failed, info, not_applicable, passed, warn
from containerguard.models.snapshot import HostSnapshot, Skipped
from containerguard.registry import register

NS_PER_HOUR = 3_600_000_000_000


def _inactive(s: HostSnapshot) -> Outcome | None:
    state = (s.info.get("Swarm") or {}).get("LocalNodeState")
    if state != "active":
        return not_applicable(f"swarm mode is {state or 'not reported'}")
    return None


def _spec(s: HostSnapshot) -> Mapping[str, Any] | Outcome:
    if isinstance(s.swarm, Skipped):
        return warn(f"swarm settings unknown ({s.swarm.reason}): run the assessment on a manager")
    return s.swarm.get("Spec") or {}


@register("check")
@control("swarm-managers", "7.1", "Ensure that the minimum number of manager nodes have been created in a swarm",
         level=1, automated=False, scope="swarm",
         remediation="Keep an odd number of managers, no more than needed (docker node demote NODE).",
         rationale="Managers hold the cluster state; extra ones widen the attack surface without adding quorum.")
def managers(s: HostSnapshot) -> Outcome:
    """An odd number of managers, at most seven."""
    if (out := _inactive(s)) is not None:
        return out
    if isinstance(s.nodes, Skipped):
        return warn(f"node list unknown ({s.nodes.reason}): count the managers with docker node ls")
    count = sum(1 for n in s.nodes if n.get("ManagerStatus"))
    ev = f"{count} managers among {len(s.nodes)} nodes"
    if count % 2 == 0 or count > 7:
        return failed(ev + " (use an odd number, 3 or 5 for fault tolerance)")
    return passed(ev)


@register("check")
@control("swarm-listen-interface", "7.2", "Ensure that swarm services are bound to a specific host interface",
         level=1, automated=False, scope="swarm",
         remediation="Initialise the swarm with --listen-addr on a specific interface.",
         rationale="The swarm management port on every interface is reachable from every network the host is on.")
def listen_interface(s: HostSnapshot) -> Outcome:
    """Manual review of the swarm listen address (the engine does not report it)."""
    if (out := _inactive(s)) is not None:
        return out
    addr = (s.info.get("Swarm") or {}).get("NodeAddr") or "?"
    return warn(f"node address {addr}: check that port 2377 listens on that interface only (ss -lnt)")


@register("check")
@control("swarm-encrypted-overlay", "7.3", "Ensure that all Docker swarm overlay networks are encrypted", level=1,
         automated=False, scope="swarm", remediation="Create overlay networks with --opt encrypted.",
         rationale="Unencrypted overlay traffic between nodes can be read on the network.")
def encrypted_overlay(s: HostSnapshot) -> Outcome:
    """Every overlay network has the ``encrypted`` option."""
    overlays = [n for n in s.networks if n.get("Driver") == "overlay"]
    if not overlays:
        return _inactive(s) or passed("no overlay networks")
    plain = [str(n.get("Name")) for n in overlays if "encrypted" not in (n.get("Options") or {})]
    if plain:
        return failed(f"unencrypted overlay networks: {', '.join(plain)}")
    return passed(f"{len(overlays)} overlay networks, all encrypted")


@register("check")
@control("swarm-secrets", "7.4",
         "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster",
         level=1, automated=False, scope="swarm", remediation="Manage secrets with docker secret.",
         rationale="Swarm secrets are encrypted at rest and delivered only to the services that need them.")
def swarm_secrets(s: HostSnapshot) -> Outcome:
    """Manual."""
    return _inactive(s) or info("review that services get secrets through docker secret, not env or images")


@register("check")
@control("swarm-autolock", "7.5", "Ensure that swarm manager is run in auto-lock mode", level=1, automated=False,
         scope="swarm", remediation="docker swarm update --autolock=true",
         rationale="Auto-lock keeps the managers' Raft keys encrypted at rest until an operator unlocks them.")
def autolock(s: HostSnapshot) -> Outcome:
    """``Spec.EncryptionConfig.AutoLockManagers`` is true."""
    if (out := _inactive(s)) is not None:
        return out
    spec = _spec(s)
    if isinstance(spec, Outcome):
        return spec
    value = (spec.get("EncryptionConfig") or {}).get("AutoLockManagers")
    return passed("AutoLockManagers: true") if value else failed(f"AutoLockManagers: {bool(value)}".lower())


@register("check")
@control("swarm-unlock-key-rotation", "7.6", "Ensure that the swarm manager auto-lock key is rotated periodically",
         level=1, automated=False, scope="swarm", remediation="docker swarm unlock-key --rotate on a schedule.",
         rationale="A rotated key limits the value of a leaked one.")
def unlock_key_rotation(s: HostSnapshot) -> Outcome:
    """Manual."""
    return _inactive(s) or info("review the auto-lock key rotation records")


@register("check")
@control("swarm-node-cert-rotation", "7.7", "Ensure that node certificates are rotated as appropriate", level=1,
         automated=False, scope="swarm", remediation="docker swarm update --cert-expiry 48h",
         rationale="Short-lived node certificates limit the use of a stolen one.")
def node_cert_rotation(s: HostSnapshot) -> Outcome:
    """Manual: the node certificate expiry."""
    if (out := _inactive(s)) is not None:
        return out
    spec = _spec(s)
    if isinstance(spec, Outcome):
        return spec
    expiry = (spec.get("CAConfig") or {}).get("NodeCertExpiry")
    if not expiry:
        return warn("node certificate expiry not reported")
    hours = int(expiry) / NS_PER_HOUR
    ev = f"node certificates expire after {hours:g} hours"
    return passed(ev) if hours <= 48 else info(ev + ": rotate them as your policy requires")


@register("check")
@control("swarm-ca-rotation", "7.8", "Ensure that CA certificates are rotated as appropriate", level=1,
         automated=False, scope="swarm", remediation="docker swarm ca --rotate",
         rationale="Rotating the swarm CA limits the value of a compromised CA key.")
def ca_rotation(s: HostSnapshot) -> Outcome:
    """Manual."""
    return _inactive(s) or info("review when the swarm root CA was last rotated (docker swarm ca)")


@register("check")
@control("swarm-data-plane", "7.9", "Ensure that management plane traffic is separated from data plane traffic",
         level=1, automated=False, scope="swarm",
         remediation="Initialise the swarm with --advertise-addr and --data-path-addr on different interfaces.",
         rationale="Separate planes keep application traffic away from cluster management.")
def data_plane(s: HostSnapshot) -> Outcome:
    """Manual: the node's management address, for review."""
    if (out := _inactive(s)) is not None:
        return out
    addr = (s.info.get("Swarm") or {}).get("NodeAddr") or "?"
    return info(f"management address {addr}: review that data traffic uses another interface (--data-path-addr)")
