"""Defender / CIS 5.1.6: service account tokens mounted only where needed."""

from __future__ import annotations

from containerguard.checks.k8s.base import Inventory, K8sCheckConfig, Pod, PodCheck, Violations, cis, defender
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import register


@register("k8s-check")
class AutomountToken(PodCheck):
    """The pod, or the service account it runs as (when in the set), disables token automounting."""

    spec = K8sCheckSpec(
        id="CG-K8S-DEF-008", title="Service account tokens must not be mounted automatically", severity="MEDIUM",
        controls=defender("Kubernetes clusters should disable automounting API credentials") + cis("5.1.6"),
        category="workload",
        description="A mounted token lets anyone who compromises the container call the API server as its "
                    "service account.",
        remediation="Set automountServiceAccountToken: false on the pod spec (or the service account) unless the "
                    "workload calls the Kubernetes API.")

    def check_pod(self, pod: Pod, config: K8sCheckConfig, inventory: Inventory) -> Violations:
        """The pod when its token is mounted."""
        value = pod.spec.get("automountServiceAccountToken")
        if value is False:
            return []
        account = str(pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount") or "default")
        if value is True:
            return ["spec.automountServiceAccountToken=true"]
        sa = inventory.get("ServiceAccount", pod.obj.namespace, account)
        if sa is not None and sa.raw.get("automountServiceAccountToken") is False:
            return []
        return [f'the token of service account "{account}" is mounted (automountServiceAccountToken is not false '
                "on the pod or the service account)"]
