"""PSS Baseline "SELinux": only the container types, no custom user or role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, as_map, pss_controls
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

ALLOWED_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
"""``container_engine_t`` is allowed from policy v1.31."""


def _problems(sc: Mapping[str, Any]) -> list[str]:
    opts = sc.get("seLinuxOptions")
    if opts is None:
        return []
    opts = as_map(opts)
    out = []
    kind = str(opts.get("type") or "")
    if kind not in ALLOWED_TYPES:
        out.append(f'type "{kind}"')
    if opts.get("user"):
        out.append("user may not be set")
    if opts.get("role"):
        out.append("role may not be set")
    return out


@register("k8s-check")
class SELinux(PodCheck):
    """``seLinuxOptions.type`` limited to the container types; ``user`` and ``role`` unset."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-009", title="Custom SELinux options are forbidden", severity="MEDIUM",
        controls=pss_controls("SELinux"), category="pod-security",
        description="A custom SELinux type, user or role can lift the confinement of the container.",
        remediation="Remove seLinuxOptions or limit type to container_t, container_init_t, container_kvm_t or "
                    "container_engine_t, with no user or role.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Pod and containers with forbidden seLinuxOptions."""
        bad = []
        if problems := _problems(pod.security_context):
            bad.append(f"pod sets forbidden securityContext.seLinuxOptions: {'; '.join(problems)}")
        for c in pod.containers():
            if problems := _problems(c.security_context):
                bad.append(f"{c.label()} sets forbidden securityContext.seLinuxOptions: {'; '.join(problems)}")
        return bad
