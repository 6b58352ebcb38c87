"""A realistic manifest set (a hardened microservices demo and upstream Kubernetes examples) scanned end
to end: the findings are the ones a reviewer expects.

Findings are keyed ``file:resource`` because two unrelated apps of the set both name a Deployment
``frontend`` (they would live in different namespaces once applied)."""

from __future__ import annotations

from pathlib import Path

from containerguard.models.k8s import FAIL
from containerguard.pipeline.k8s_audit import audit
from containerguard.sources.k8s_manifests import read_paths

SET = Path(__file__).parents[2] / "fixtures/k8s/realistic"
UNHARDENED = {"CG-K8S-CIS-004", "CG-K8S-DEF-001", "CG-K8S-DEF-004", "CG-K8S-DEF-005", "CG-K8S-DEF-008",
              "CG-K8S-PSS-102", "CG-K8S-PSS-103", "CG-K8S-PSS-105", "CG-K8S-PSS-106"}


def failing(standard: str = "") -> dict[str, set[str]]:
    result = audit(read_paths([str(SET)]), standard=standard)
    assert result.skipped == ()
    out: dict[str, set[str]] = {}
    for r in result.results:
        if r.status == FAIL:
            out.setdefault(f"{Path(r.file).name}:{r.resource}", set()).add(r.check_id)
    return out


def test_everything_passes_baseline() -> None:
    assert failing("pss-baseline") == {}


def test_restricted() -> None:
    got = failing("pss-restricted")
    # Online Boutique hardens everything but sets no seccomp profile.
    for key in ("frontend.yaml:Deployment/frontend", "cartservice.yaml:Deployment/cartservice",
                "cartservice.yaml:Deployment/redis-cart"):
        assert got[key] == {"CG-K8S-PSS-105"}
    # The docs' security-context pod sets runAsUser but not runAsNonRoot, seccomp or drop ALL.
    assert got["security-context.yaml:Pod/security-context-demo"] == {"CG-K8S-PSS-103", "CG-K8S-PSS-105",
                                                                       "CG-K8S-PSS-106"}
    # The dashboard sets seccomp at pod level and runs as 1001, but without runAsNonRoot and drop ALL.
    assert got["dashboard.yaml:Deployment/kubernetes-dashboard/kubernetes-dashboard"] == {"CG-K8S-PSS-103",
                                                                                         "CG-K8S-PSS-106"}


def test_full_scan_findings() -> None:
    got = failing()
    for key in ("guestbook.yaml:Deployment/frontend", "guestbook.yaml:Deployment/redis-leader",
                "nginx-deployment.yaml:Deployment/nginx-deployment"):
        assert got[key] == UNHARDENED
    assert got["frontend.yaml:Deployment/frontend"] == {"CG-K8S-DEF-008", "CG-K8S-PSS-105"}
    assert got["frontend.yaml:Service/frontend-external"] == {"CG-K8S-NET-002"}
    assert got["dashboard.yaml:ClusterRoleBinding/kubernetes-dashboard-admin"] == {"CG-K8S-RBAC-001"}
    assert got["dashboard.yaml:Service/kubernetes-dashboard/kubernetes-dashboard"] == {"CG-K8S-NET-002",
                                                                                      "CG-K8S-NET-003"}
    assert got["dashboard.yaml:Deployment/kubernetes-dashboard/kubernetes-dashboard"] == {
        "CG-K8S-CIS-004", "CG-K8S-DEF-001", "CG-K8S-DEF-008", "CG-K8S-NET-003", "CG-K8S-PSS-103", "CG-K8S-PSS-106"}
    assert got["dashboard.yaml:Namespace/kubernetes-dashboard"] == {"CG-K8S-NET-001"}
    # ClusterIP services, the redis "alpine" tag (moving, but not latest) and the ServiceAccounts pass.
    assert not any(k.endswith(("Service/frontend", "Service/redis-cart", "ServiceAccount/frontend")) for k in got)
    assert len(got) == 13
