"""Defender: images only from allowed registries; no ``:latest`` or untagged images."""

from __future__ import annotations

import re

from containerguard.checks.k8s.base import (
    Inventory,
    K8sCheckConfig,
    Pod,
    PodCheck,
    Violations,
    defender,
    split_image,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class AllowedRegistries(PodCheck):
    """Every image reference matches one of the configured registry patterns."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-002", title="Images must come from allowed registries", severity="HIGH",
        controls=defender("Container images should be deployed from trusted registries only"), category="workload",
        description="Images from unvetted registries bypass image scanning and provenance controls.",
        remediation="Push the image to an allowed registry and reference it from there.")

    def not_run_reason(self, config: K8sCheckConfig) -> str:
        """Needs ``--allowed-registry``."""
        return "" if config.allowed_registries else "no allowed registries configured (--allowed-registry)"

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers whose image matches no allowed pattern."""
        patterns = [re.compile(p) for p in config.allowed_registries]
        return [f'{c.label()} uses image "{c.raw.get("image")}" from a registry not allowed'
                for c in pod.containers()
                if not any(p.match(str(c.raw.get("image") or "")) for p in patterns)]


@register("k8s-check")
class PinnedImageTag(PodCheck):
    """No image uses the ``latest`` tag or no tag at all (a digest pins it)."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-003", title="Images must not use the latest tag or no tag", severity="MEDIUM",
        controls=defender("Container images should not use the latest tag"), category="workload",
        description="A moving tag makes what runs unknowable and unreproducible; a rollout may pull anything.",
        remediation="Reference images by an immutable version tag or, better, by digest (image@sha256:…).")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """Containers with a latest or missing tag and no digest."""
        bad = []
        for c in pod.containers():
            image = str(c.raw.get("image") or "")
            _, tag, digest = split_image(image)
            if digest:
                continue
            if not tag:
                bad.append(f'{c.label()} uses untagged image "{image}" (implicitly latest)')
            elif tag == "latest":
                bad.append(f'{c.label()} uses image "{image}"')
        return bad
