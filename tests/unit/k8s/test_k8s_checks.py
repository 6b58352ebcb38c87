"""Table-driven tests of the Defender, CIS, RBAC and exposure checks on manifests in their real format."""

from __future__ import annotations

import textwrap

import pytest

from containerguard.checks.k8s.base import K8sCheckConfig, split_image
from containerguard.models.k8s import FAIL, PASS, K8sCollected
from containerguard.pipeline.k8s_audit import audit, k8s_checks
from containerguard.sources.k8s_manifests import parse_text


def _pod(spec: str, meta: str = "name: p\n  namespace: app") -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  {meta}\nspec:\n{textwrap.indent(textwrap.dedent(spec), '  ')}"


def verdicts(manifest: str, check_id: str, config: K8sCheckConfig | None = None) -> dict[str, str]:
    objects, skipped = parse_text(textwrap.dedent(manifest), "test.yaml")
    assert skipped == []
    checks = [c for c in k8s_checks() if c.spec.id == check_id]
    assert checks, check_id
    result = audit(K8sCollected(tuple(objects)), config, checks=checks)
    return {r.resource: r.status for r in result.results}


GOOD_CONTAINER = """\
containers:
- name: app
  image: registry.example.com/app:1.2.3
  resources: {limits: {cpu: 500m, memory: 128Mi}}
  securityContext: {readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}
automountServiceAccountToken: false
"""

HOST_PATH = "containers: [{{name: a, image: x:1}}]\nvolumes: [{{name: v, hostPath: {{path: {}}}}}]"

CASES = [
    # (check, manifest, expected status of the pod, config)
    ("CG-K8S-DEF-001", _pod(GOOD_CONTAINER), PASS, None),
    ("CG-K8S-DEF-001", _pod("containers: [{name: a, image: x:1, resources: {limits: {cpu: '1'}}}]"), FAIL, None),
    ("CG-K8S-DEF-002", _pod(GOOD_CONTAINER), PASS, K8sCheckConfig(allowed_registries=(r"registry\.example\.com/",))),
    ("CG-K8S-DEF-002", _pod("containers: [{name: a, image: docker.io/library/nginx:1.25}]"), FAIL,
     K8sCheckConfig(allowed_registries=(r"registry\.example\.com/",))),
    ("CG-K8S-DEF-003", _pod("containers: [{name: a, image: nginx}]"), FAIL, None),
    ("CG-K8S-DEF-003", _pod("containers: [{name: a, image: 'nginx:latest'}]"), FAIL, None),
    ("CG-K8S-DEF-003", _pod("containers: [{name: a, image: 'localhost:5000/app'}]"), FAIL, None),
    ("CG-K8S-DEF-003", _pod("containers: [{name: a, image: 'localhost:5000/app:2.0'}]"), PASS, None),
    ("CG-K8S-DEF-003", _pod("containers: [{name: a, image: 'nginx:latest@sha256:0f1e2d'}]"), PASS, None),
    ("CG-K8S-DEF-004", _pod(GOOD_CONTAINER), PASS, None),
    ("CG-K8S-DEF-004", _pod("containers: [{name: a, image: x:1}]"), FAIL, None),
    ("CG-K8S-DEF-005", _pod(GOOD_CONTAINER), PASS, None),
    ("CG-K8S-DEF-005", _pod("securityContext: {runAsUser: 1000}\ncontainers: [{name: a, image: x:1}]"), PASS, None),
    ("CG-K8S-DEF-005", _pod("securityContext: {runAsUser: 1000}\n"
                            "containers: [{name: a, image: x:1, securityContext: {runAsUser: 0}}]"), FAIL, None),
    ("CG-K8S-DEF-005", _pod("containers: [{name: a, image: x:1}]"), FAIL, None),
    ("CG-K8S-DEF-006", _pod("containers: [{name: a, image: x:1, securityContext: "
                            "{capabilities: {add: [CAP_SYS_ADMIN]}}}]"), FAIL, None),
    ("CG-K8S-DEF-006", _pod("containers: [{name: a, image: x:1, securityContext: {capabilities: {add: [NET_ADMIN]}}}]"),
     PASS, None),
    ("CG-K8S-DEF-007", _pod("containers: [{name: a, image: x:1, securityContext: {capabilities: {add: [NET_ADMIN]}}}]"),
     FAIL, None),
    ("CG-K8S-DEF-007", _pod("containers: [{name: a, image: x:1, securityContext: {capabilities: {add: [NET_ADMIN]}}}]"),
     PASS, K8sCheckConfig(allowed_capabilities=("NET_ADMIN",))),
    ("CG-K8S-DEF-008", _pod(GOOD_CONTAINER), PASS, None),
    ("CG-K8S-DEF-008", _pod("containers: [{name: a, image: x:1}]"), FAIL, None),
    ("CG-K8S-DEF-008", _pod("serviceAccountName: quiet\ncontainers: [{name: a, image: x:1}]")
     + "\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: quiet, namespace: app}\n"
       "automountServiceAccountToken: false\n", PASS, None),
    ("CG-K8S-DEF-009", _pod("containers: [{name: a, image: x:1}]", meta="name: p\n  namespace: default"), FAIL, None),
    ("CG-K8S-DEF-011", _pod("hostNetwork: true\ncontainers: [{name: a, image: x:1}]"), FAIL, None),
    ("CG-K8S-DEF-011", _pod("containers: [{name: a, image: x:1, ports: [{containerPort: 80, hostPort: 8080}]}]"),
     PASS, K8sCheckConfig(allowed_host_ports=(8080,))),
    ("CG-K8S-DEF-012", _pod(HOST_PATH.format("/var/log/app")), PASS, K8sCheckConfig(allowed_host_paths=("/var/log",))),
    ("CG-K8S-DEF-012", _pod(HOST_PATH.format("/var/log/../run")), FAIL,
     K8sCheckConfig(allowed_host_paths=("/var/log",))),
    ("CG-K8S-DEF-012", _pod(HOST_PATH.format("/var/logs")), FAIL, K8sCheckConfig(allowed_host_paths=("/var/log",))),
    ("CG-K8S-CIS-001", _pod("hostPID: true\ncontainers: [{name: a, image: x:1}]"), FAIL, None),
    ("CG-K8S-CIS-002", _pod("hostPID: true\ncontainers: [{name: a, image: x:1}]"), PASS, None),
    ("CG-K8S-CIS-004", _pod("containers: [{name: a, image: x:1, securityContext: {capabilities: {drop: [NET_RAW]}}}]"),
     PASS, None),
    ("CG-K8S-CIS-004", _pod("containers: [{name: a, image: x:1}]"), FAIL, None),
    ("CG-K8S-CIS-005", _pod("containers: [{name: a, image: x:1, securityContext: {capabilities: {add: [CHOWN]}}}]"),
     FAIL, None),
    ("CG-K8S-CIS-007", _pod("containers: [{name: a, image: x:1, env: [{name: PW, valueFrom: {secretKeyRef: "
                            "{name: db, key: pw}}}]}]"), FAIL, None),
    ("CG-K8S-CIS-007", _pod("containers: [{name: a, image: x:1, env: [{name: A, value: b}]}]"), PASS, None),
]


@pytest.mark.parametrize(("check_id", "manifest", "status", "config"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_pod_checks(check_id: str, manifest: str, status: str, config: K8sCheckConfig | None) -> None:
    got = verdicts(manifest, check_id, config)
    assert [v for k, v in got.items() if k.startswith("Pod/")] == [status]


def test_unconfigured_allow_lists_are_noted_not_run() -> None:
    objects, _ = parse_text(_pod("containers: [{name: a, image: x:1}]"), "t.yaml")
    result = audit(K8sCollected(tuple(objects)))
    assert not any(r.check_id in ("CG-K8S-DEF-002", "CG-K8S-DEF-010") for r in result.results)
    assert any(n.startswith("CG-K8S-DEF-002 not run") for n in result.notes)


RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create]
- apiGroups: ["apps"]
  resources: [deployments]
  verbs: [create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: app}
rules:
- apiGroups: [""]
  resources: [pods, services]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [app-tls]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: god}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-admin
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: escalator}
rules:
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind]
- apiGroups: [""]
  resources: [users]
  verbs: [impersonate]
"""

BINDINGS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dashboard-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: kubernetes-dashboard, namespace: kubernetes-dashboard}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-system-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: controller, namespace: kube-system}
- {kind: Group, name: "system:masters", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: open, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: Group, name: "system:unauthenticated", apiGroup: rbac.authorization.k8s.io}
"""


@pytest.mark.parametrize(("check_id", "expected"), [
    ("CG-K8S-RBAC-002", {"ClusterRole/ops": PASS, "Role/app/reader": PASS, "ClusterRole/god": FAIL,
                         "ClusterRole/escalator": PASS}),
    ("CG-K8S-RBAC-003", {"ClusterRole/ops": FAIL, "Role/app/reader": PASS, "ClusterRole/god": FAIL,
                         "ClusterRole/escalator": PASS}),
    ("CG-K8S-RBAC-004", {"ClusterRole/ops": FAIL, "Role/app/reader": PASS, "ClusterRole/god": FAIL,
                         "ClusterRole/escalator": PASS}),
    ("CG-K8S-RBAC-005", {"ClusterRole/ops": PASS, "Role/app/reader": PASS, "ClusterRole/god": FAIL,
                         "ClusterRole/escalator": FAIL}),
    ("CG-K8S-RBAC-006", {"ClusterRole/ops": FAIL, "Role/app/reader": PASS, "ClusterRole/god": FAIL,
                         "ClusterRole/escalator": PASS}),
    ("CG-K8S-RBAC-011", {"ClusterRole/ops": PASS, "Role/app/reader": PASS, "ClusterRole/god": FAIL,
                         "ClusterRole/escalator": PASS}),
])
def test_rbac_role_checks(check_id: str, expected: dict[str, str]) -> None:
    # The built-in cluster-admin role (bootstrapping label) is never assessed.
    assert verdicts(RBAC, check_id) == expected


@pytest.mark.parametrize(("check_id", "expected"), [
    ("CG-K8S-RBAC-001", {"ClusterRoleBinding/dashboard-admin": FAIL, "ClusterRoleBinding/kube-system-admin": PASS,
                         "RoleBinding/app/open": PASS}),
    ("CG-K8S-RBAC-012", {"ClusterRoleBinding/dashboard-admin": PASS, "ClusterRoleBinding/kube-system-admin": PASS,
                         "RoleBinding/app/open": FAIL}),
    ("CG-K8S-RBAC-013", {"ClusterRoleBinding/dashboard-admin": PASS, "ClusterRoleBinding/kube-system-admin": FAIL,
                         "RoleBinding/app/open": PASS}),
])
def test_rbac_binding_checks(check_id: str, expected: dict[str, str]) -> None:
    assert verdicts(BINDINGS, check_id) == expected


EXPOSURE = """\
apiVersion: v1
kind: Service
metadata: {name: kubernetes-dashboard, namespace: kubernetes-dashboard}
spec:
  type: NodePort
  selector: {k8s-app: kubernetes-dashboard}
  ports: [{port: 443, targetPort: 8443, nodePort: 30443}]
---
apiVersion: v1
kind: Service
metadata:
  name: internal-api
  namespace: app
  annotations: {service.beta.kubernetes.io/azure-load-balancer-internal: "true"}
spec:
  type: LoadBalancer
  ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  type: LoadBalancer
  ports: [{port: 80}, {port: 8081}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubernetes-dashboard, namespace: kubernetes-dashboard}
spec:
  template:
    spec:
      containers:
      - name: kubernetes-dashboard
        image: kubernetesui/dashboard:v2.7.0
        args: [--auto-generate-certificates, --namespace=kubernetes-dashboard, --enable-skip-login]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: app}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  template:
    spec:
      containers: [{name: api, image: "api:1"}]
"""


@pytest.mark.parametrize(("check_id", "expected", "config"), [
    ("CG-K8S-NET-001", {"Namespace/kubernetes-dashboard": FAIL, "Namespace/app": PASS}, None),
    ("CG-K8S-NET-002", {"Service/kubernetes-dashboard/kubernetes-dashboard": FAIL, "Service/app/internal-api": PASS,
                        "Service/app/web": FAIL}, None),
    ("CG-K8S-NET-003", {"Service/kubernetes-dashboard/kubernetes-dashboard": FAIL,
                        "Deployment/kubernetes-dashboard/kubernetes-dashboard": FAIL}, None),
    ("CG-K8S-DEF-010", {"Service/kubernetes-dashboard/kubernetes-dashboard": PASS, "Service/app/internal-api": PASS,
                        "Service/app/web": FAIL}, K8sCheckConfig(allowed_service_ports=(80, 443))),
])
def test_exposure_checks(check_id: str, expected: dict[str, str], config: K8sCheckConfig | None) -> None:
    assert verdicts(EXPOSURE, check_id, config) == expected


def test_check_ids_are_unique_and_described() -> None:
    specs = [c.spec for c in k8s_checks()]
    assert len({s.id for s in specs}) == len(specs)
    for s in specs:
        assert s.title and s.remediation and s.description and s.severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW")


@pytest.mark.parametrize(("image", "parts"), [
    ("nginx", ("nginx", "", "")),
    ("nginx:1.25", ("nginx", "1.25", "")),
    ("registry:5000/team/app", ("registry:5000/team/app", "", "")),
    ("registry:5000/team/app:v2@sha256:abc123", ("registry:5000/team/app", "v2", "sha256:abc123")),
])
def test_split_image(image: str, parts: tuple[str, str, str]) -> None:
    assert split_image(image) == parts
