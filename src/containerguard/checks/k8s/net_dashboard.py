"""Exposure: the Kubernetes dashboard reachable from outside or without login."""

from __future__ import annotations

from typing import Any

from containerguard.checks.k8s.base import (
    POD_SPEC_KINDS,
    Inventory,
    K8sCheckConfig,
    ObjectCheck,
    Violations,
    as_list,
    as_map,
)
from containerguard.checks.k8s.net_services import external_exposure
from containerguard.models.k8s import K8sCheckSpec, K8sObject
from containerguard.registry import register

DASHBOARD = "kubernetes-dashboard"
DASHBOARD_IMAGES = ("kubernetesui/dashboard", "kubernetes-dashboard")
"""Image name fragments of the dashboard (kubernetesui/dashboard, older k8s.gcr.io/kubernetes-dashboard-amd64)."""
INSECURE_FLAGS = ("--enable-skip-login", "--enable-insecure-login", "--disable-settings-authorizer")


def _is_dashboard_service(obj: K8sObject) -> bool:
    selector = {str(v) for v in as_map(as_map(obj.raw.get("spec")).get("selector")).values()}
    return DASHBOARD in obj.name or any(DASHBOARD in v for v in selector)


def _dashboard_image(image: str) -> bool:
    return any(fragment in image for fragment in DASHBOARD_IMAGES)


def _ingress_backends(obj: K8sObject) -> list[str]:
    spec = as_map(obj.raw.get("spec"))
    backends: list[Any] = [spec.get("defaultBackend")]
    for rule in as_list(spec.get("rules")):
        backends += [as_map(p).get("backend") for p in as_list(as_map(as_map(rule).get("http")).get("paths"))]
    names = []
    for b in backends:
        b = as_map(b)
        names.append(str(as_map(b.get("service")).get("name") or b.get("serviceName") or ""))
    return [n for n in names if n]


def _pod_images_args(obj: K8sObject, inventory: Inventory) -> list[tuple[str, list[str]]]:
    pod = inventory.pod(obj)
    if pod is None:
        return []
    return [(str(c.raw.get("image") or ""),
             [str(a) for a in as_list(c.raw.get("args")) + as_list(c.raw.get("command"))])
            for c in pod.containers()]


@register("k8s-check")
class DashboardExposed(ObjectCheck):
    """Dashboard services exposed outside the cluster, ingresses routing to the dashboard, and
    dashboard deployments that allow skipping login."""

    kinds = POD_SPEC_KINDS | {"Service", "Ingress"}
    spec = K8sCheckSpec(
        id="CG-K8S-NET-003", title="The Kubernetes dashboard must not be exposed", severity="HIGH",
        controls=(), category="network",
        description="An exposed dashboard (notably with skip-login) has given attackers cluster control in "
                    "real incidents (e.g. Tesla's cryptojacking, 2018).",
        remediation="Keep the dashboard on ClusterIP, reach it through kubectl proxy/port-forward, and remove "
                    "--enable-skip-login / --enable-insecure-login.")

    def applies(self, obj: K8sObject, inventory: Inventory) -> bool:
        """Only dashboard objects."""
        if obj.kind == "Service":
            return _is_dashboard_service(obj)
        if obj.kind == "Ingress":
            return any(DASHBOARD in b for b in _ingress_backends(obj))
        return any(_dashboard_image(image) for image, _ in _pod_images_args(obj, inventory))

    def assess(self, obj: K8sObject, inventory: Inventory, config: K8sCheckConfig) -> Violations:
        """How the dashboard is exposed."""
        if obj.kind == "Service":
            return [f"dashboard service is exposed: {e}" for e in external_exposure(obj)]
        if obj.kind == "Ingress":
            return [f"ingress routes to the dashboard service {b}" for b in _ingress_backends(obj) if DASHBOARD in b]
        bad = []
        for image, args in _pod_images_args(obj, inventory):
            if _dashboard_image(image):
                bad += [f"dashboard runs with {a}" for a in args
                        if a.split("=", 1)[0] in INSECURE_FLAGS and not a.endswith("=false")]
        return bad
