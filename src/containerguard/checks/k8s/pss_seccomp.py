"""PSS "Seccomp": Baseline forbids Unconfined; Restricted requires RuntimeDefault or Localhost
explicitly, at pod level or in every container (Linux pods)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    as_map,
    cis,
    pss_controls,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

VALID_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def _profile_type(sc: Mapping[str, Any]) -> str | None:
    """None when no seccompProfile is set, else its type ("" when missing)."""
    profile = sc.get("seccompProfile")
    return None if profile is None else str(as_map(profile).get("type") or "")


@register("k8s-check")
class SeccompBaseline(PodCheck):
    """A seccomp profile, where set, must be RuntimeDefault or Localhost."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-011", title="Seccomp must not be disabled", severity="MEDIUM",
        controls=pss_controls("Seccomp", restricted_too=False), category="pod-security",
        description="seccompProfile type Unconfined runs the container without a system call filter.",
        remediation="Set seccompProfile.type to RuntimeDefault (or Localhost) instead of Unconfined.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Pod and containers with a forbidden profile type."""
        bad = []
        if (t := _profile_type(pod.security_context)) is not None and t not in VALID_TYPES:
            bad.append(f'pod sets securityContext.seccompProfile.type="{t}"')
        for c in pod.containers():
            if (t := _profile_type(c.security_context)) is not None and t not in VALID_TYPES:
                bad.append(f'{c.label()} sets securityContext.seccompProfile.type="{t}"')
        return bad


@register("k8s-check")
class SeccompRestricted(PodCheck):
    """RuntimeDefault or Localhost set at pod level, or in every container that does not inherit it."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-105", title="A RuntimeDefault or Localhost seccomp profile must be set", severity="MEDIUM",
        controls=pss_controls("Seccomp", level="restricted") + cis("5.7.2"), category="pod-security",
        description="Restricted pods must run under the runtime's default seccomp filter or a local profile.",
        remediation="Set spec.securityContext.seccompProfile.type: RuntimeDefault (or per container).")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Explicitly bad settings, then containers left without a profile."""
        if pod.windows:
            return []
        bad = []
        pod_type = _profile_type(pod.security_context)
        pod_set = pod_type in VALID_TYPES
        if pod_type is not None and not pod_set:
            bad.append(f'pod must not set securityContext.seccompProfile.type="{pod_type}"')
        missing = []
        for c in pod.containers():
            t = _profile_type(c.security_context)
            if t is not None and t not in VALID_TYPES:
                bad.append(f'{c.label()} must not set securityContext.seccompProfile.type="{t}"')
            elif t is None and not pod_set:
                missing.append(c.label())
        if missing:
            bad.append(f"pod or {', '.join(missing)} must set securityContext.seccompProfile.type to "
                       '"RuntimeDefault" or "Localhost"')
        return bad
