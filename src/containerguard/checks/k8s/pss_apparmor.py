"""PSS Baseline "AppArmor": the profile may not be overridden to unconfined."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, as_map, pss_controls
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register

ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def _annotation_allowed(value: str) -> bool:
    return value in ("", "runtime/default") or value.startswith("localhost/")


def _field_bad(sc: Mapping[str, Any]) -> str | None:
    profile = sc.get("appArmorProfile")
    if profile is None:
        return None
    kind = as_map(profile).get("type")
    return None if kind in ALLOWED_TYPES else str(kind)


@register("k8s-check")
class AppArmor(PodCheck):
    """``appArmorProfile.type`` must be RuntimeDefault or Localhost (or unset); the deprecated
    per-container annotation must be ``runtime/default``, ``localhost/*`` or empty."""

    spec = K8sCheckSpec(
        id="CG-K8S-PSS-008", title="AppArmor must not be disabled", severity="MEDIUM",
        controls=pss_controls("AppArmor"), category="pod-security",
        description="The runtime's default AppArmor profile confines containers; Unconfined removes it.",
        remediation="Remove appArmorProfile (or use type RuntimeDefault or Localhost); remove "
                    "container.apparmor.security.beta.kubernetes.io annotations set to unconfined.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Fields and annotations selecting a forbidden profile."""
        bad = []
        if (t := _field_bad(pod.security_context)) is not None:
            bad.append(f'pod sets securityContext.appArmorProfile.type="{t}"')
        for c in pod.containers():
            if (t := _field_bad(c.security_context)) is not None:
                bad.append(f'{c.label()} sets securityContext.appArmorProfile.type="{t}"')
        for key, value in sorted(as_map(pod.metadata.get("annotations")).items()):
            if str(key).startswith(ANNOTATION_PREFIX) and not _annotation_allowed(str(value or "")):
                bad.append(f'annotation {key}="{value}"')
        return bad
