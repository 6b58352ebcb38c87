"""PSS "Capabilities": Baseline limits added capabilities to the default set; Restricted requires
``drop: [ALL]`` and allows adding only NET_BIND_SERVICE (Linux pods)."""

from __future__ import annotations

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_list,
    as_map,
    cis,
    pss_controls,
    quote_list,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

BASELINE_ALLOWED = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
"""The container runtime's default capability set: what Baseline lets a container add."""


def _caps(c_sc: object, key: str) -> list[str]:
    return [str(x) for x in as_list(as_map(as_map(c_sc).get("capabilities")).get(key))]


@register("k8s-check")
class CapabilitiesBaseline(PodCheck):
    """``capabilities.add`` may only name the default set (Restricted replaces this control)."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-004", title="Capabilities beyond the default set must not be added", severity="HIGH",
        controls=pss_controls("Capabilities", restricted_too=False), category="pod-security",
        description="Capabilities outside the runtime's default set (SYS_ADMIN, NET_RAW, SYS_PTRACE…) open "
                    "known container escapes.",
        remediation="Remove from securityContext.capabilities.add every capability outside AUDIT_WRITE, CHOWN, "
                    "DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, "
                    "SYS_CHROOT.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers adding capabilities outside :data:`BASELINE_ALLOWED`."""
        bad = []
        for c in pod.containers():
            extra = [cap for cap in _caps(c.security_context, "add") if cap not in BASELINE_ALLOWED]
            if extra:
                bad.append(f"{c.label()} adds forbidden capabilities {quote_list(extra)}")
        return bad


@register("k8s-check")
class CapabilitiesRestricted(PodCheck):
    """Every container drops ALL and adds nothing but NET_BIND_SERVICE (Windows pods exempt)."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-106", title='Containers must drop ALL capabilities and add only NET_BIND_SERVICE',
        severity="MEDIUM", controls=pss_controls("Capabilities", level="restricted") + cis("5.2.10"),
        category="pod-security",
        description="Restricted pods run without any Linux capability except, optionally, binding low ports.",
        remediation='Set securityContext.capabilities.drop: ["ALL"] in every container and add at most '
                    "NET_BIND_SERVICE.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers not dropping ALL, and containers adding more than NET_BIND_SERVICE."""
        if pod.windows:
            return []
        bad = []
        for c in pod.containers():
            if "ALL" not in _caps(c.security_context, "drop"):
                bad.append(f'{c.label()} must set securityContext.capabilities.drop=["ALL"]')
            extra = [cap for cap in _caps(c.security_context, "add") if cap != "NET_BIND_SERVICE"]
            if extra:
                bad.append(f"{c.label()} must not add {quote_list(extra)}")
        return bad
