"""Kubernetes objects from a live cluster, through the official ``kubernetes`` client.

Every kind the checks read is listed cluster-wide with paging (``limit`` + ``continue``). Responses
are decoded as raw JSON rather than the client's typed models, so objects look exactly as in a
``kubectl get -o json`` dump (camelCase, unknown fields kept) and the checks see one shape whatever
the source. A kind the credentials may not list (403) or the server does not serve (404) becomes a
:class:`K8sSkipped`; the other kinds are still collected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError as Urllib3Error

from containerguard.errors import SourceError
from containerguard.models.k8s import K8sCollected, K8sObject, K8sSkipped

PAGE_SIZE = 500
"""Objects per list call (kubectl's default chunk size)."""
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True)
class ApiKind:
    """One listable kind: its identity and the client method that lists it in every namespace."""

    kind: str
    api_version: str
    api: str
    """Class in ``kubernetes.client`` (``CoreV1Api``…)."""
    method: str


KINDS: tuple[ApiKind, ...] = (
    ApiKind("Namespace", "v1", "CoreV1Api", "list_namespace"),
    ApiKind("Node", "v1", "CoreV1Api", "list_node"),
    ApiKind("Pod", "v1", "CoreV1Api", "list_pod_for_all_namespaces"),
    ApiKind("ReplicationController", "v1", "CoreV1Api", "list_replication_controller_for_all_namespaces"),
    ApiKind("Service", "v1", "CoreV1Api", "list_service_for_all_namespaces"),
    ApiKind("ServiceAccount", "v1", "CoreV1Api", "list_service_account_for_all_namespaces"),
    ApiKind("Deployment", "apps/v1", "AppsV1Api", "list_deployment_for_all_namespaces"),
    ApiKind("StatefulSet", "apps/v1", "AppsV1Api", "list_stateful_set_for_all_namespaces"),
    ApiKind("DaemonSet", "apps/v1", "AppsV1Api", "list_daemon_set_for_all_namespaces"),
    ApiKind("ReplicaSet", "apps/v1", "AppsV1Api", "list_replica_set_for_all_namespaces"),
    ApiKind("Job", "batch/v1", "BatchV1Api", "list_job_for_all_namespaces"),
    ApiKind("CronJob", "batch/v1", "BatchV1Api", "list_cron_job_for_all_namespaces"),
    ApiKind("Ingress", "networking.k8s.io/v1", "NetworkingV1Api", "list_ingress_for_all_namespaces"),
    ApiKind("NetworkPolicy", "networking.k8s.io/v1", "NetworkingV1Api", "list_network_policy_for_all_namespaces"),
    ApiKind("Role", "rbac.authorization.k8s.io/v1", "RbacAuthorizationV1Api", "list_role_for_all_namespaces"),
    ApiKind("ClusterRole", "rbac.authorization.k8s.io/v1", "RbacAuthorizationV1Api", "list_cluster_role"),
    ApiKind("RoleBinding", "rbac.authorization.k8s.io/v1", "RbacAuthorizationV1Api",
            "list_role_binding_for_all_namespaces"),
    ApiKind("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "RbacAuthorizationV1Api",
            "list_cluster_role_binding"),
    ApiKind("ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1", "AdmissionregistrationV1Api",
            "list_validating_webhook_configuration"),
    ApiKind("MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1", "AdmissionregistrationV1Api",
            "list_mutating_webhook_configuration"),
)
"""Everything collected from a cluster (issue 6, item 1)."""


def api_client(kubeconfig: str = "", context: str = "") -> kubernetes.client.ApiClient:
    """A client for ``kubeconfig`` (else ``$KUBECONFIG`` / ``~/.kube/config``), or the in-cluster
    service account when running in a pod without a kubeconfig."""
    default = Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
    try:
        if not kubeconfig and not default.exists() and os.environ.get("KUBERNETES_SERVICE_HOST"):
            configuration = kubernetes.client.Configuration()
            kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return kubernetes.client.ApiClient(configuration)
        client: kubernetes.client.ApiClient = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig or None, context=context or None)
        return client
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        where = kubeconfig or str(default)
        raise SourceError(f"cannot load Kubernetes credentials from {where}: {exc}") from exc


def collect_cluster(kubeconfig: str = "", context: str = "", *, client: kubernetes.client.ApiClient | None = None,
                    page_size: int = PAGE_SIZE, kinds: tuple[ApiKind, ...] = KINDS) -> K8sCollected:
    """Every object of ``kinds`` in the cluster. Unreachable server or rejected credentials (401):
    :class:`SourceError`; a kind forbidden (403) or not served (404): a :class:`K8sSkipped`."""
    client = client or api_client(kubeconfig, context)
    host = str(client.configuration.host)
    source = f"cluster:{host}"
    objects: list[K8sObject] = []
    skipped: list[K8sSkipped] = []
    for kind in kinds:
        try:
            for item in _list_all(client, kind, page_size):
                objects.append(_object(item, kind, source))
        except ApiException as exc:
            if exc.status in (403, 404):
                reason = "forbidden" if exc.status == 403 else "not served by this cluster"
                skipped.append(K8sSkipped(source, f"{kind.kind}: {reason} (HTTP {exc.status}: {_message(exc)})"))
                continue
            if exc.status == 401:
                raise SourceError(f"{host}: credentials rejected (HTTP 401)") from exc
            raise SourceError(f"{host}: listing {kind.kind} failed: HTTP {exc.status} {_message(exc)}") from exc
        except Urllib3Error as exc:
            # Connection refused, TLS failures, timeouts: nothing else will work either.
            raise SourceError(f"cannot reach {host}: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise SourceError(f"{host}: listing {kind.kind} failed: {exc}") from exc
    return K8sCollected(tuple(objects), tuple(skipped))


def _list_all(client: kubernetes.client.ApiClient, kind: ApiKind, page_size: int) -> Iterator[dict[str, Any]]:
    method = getattr(getattr(kubernetes.client, kind.api)(client), kind.method)
    token: str | None = None
    while True:
        response = method(limit=page_size, _continue=token, _preload_content=False,
                          _request_timeout=REQUEST_TIMEOUT)
        data = json.loads(response.data)
        if not isinstance(data, dict):
            raise ValueError(f"{kind.kind} list is not a JSON object")
        for item in data.get("items") or ():
            if isinstance(item, dict):
                yield item
        token = (data.get("metadata") or {}).get("continue") or None
        if not token:
            return


def _object(item: dict[str, Any], kind: ApiKind, source: str) -> K8sObject:
    # Items of a typed list carry no kind/apiVersion: give them the list's.
    raw = {"apiVersion": kind.api_version, "kind": kind.kind, **item}
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return K8sObject(kind=kind.kind, api_version=kind.api_version, namespace=str(meta.get("namespace") or ""),
                     name=str(meta.get("name") or "(unnamed)"), raw=raw, source=source, line=0)


def _message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (ValueError, TypeError):
        return str(exc.reason or "")
    return str(body.get("message") or exc.reason or "") if isinstance(body, dict) else str(exc.reason or "")
