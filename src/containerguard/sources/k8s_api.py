"""Kubernetes objects from a live cluster, through the official ``kubernetes`` client.

Every kind the checks read is listed cluster-wide with paging (``limit`` + ``continue``). Responses
are decoded as raw JSON rather than the client's typed models, so objects look exactly as in a
``kubectl get -o json`` dump (camelCase, unknown fields kept) and the checks see one shape whatever
the source. A kind the credentials may not list (403) or the server does not serve (404) becomes a
:class:`K8sSkipped`; the other kinds are still collected.

Each kind can also be watched (:class:`WatchStream`): the API's ``?watch=1&resourceVersion=…
&allowWatchBookmarks=true`` stream of one JSON ``WatchEvent`` per line, started from the
``resourceVersion`` a list returned (``collect_cluster(versions=…)``, :func:`list_kind`).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containerguard.errors import SourceError
from containerguard.lazy import lazy_module
from containerguard.models.k8s import K8sCollected, K8sObject, K8sSkipped

if TYPE_CHECKING:
    import kubernetes
    import urllib3
    import urllib3.exceptions
    from kubernetes.client.exceptions import ApiException
else:  # imported when a cluster is first read, not at start-up
    kubernetes = lazy_module("kubernetes")
    urllib3 = lazy_module("urllib3")

PAGE_SIZE = 500
"""Objects per list call (kubectl's default chunk size)."""
REQUEST_TIMEOUT = 60.0
CONNECT_TIMEOUT = 10.0
WATCH_TIMEOUT = 300
"""Seconds the API server keeps one watch open (``timeoutSeconds``); the watcher then reconnects."""


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
    except (kubernetes.config.config_exception.ConfigException, OSError, ValueError, TypeError) as exc:
        where = kubeconfig or str(default)
        raise SourceError(f"cannot load Kubernetes credentials from {where}: {exc}") from exc


def client_from_dict(config: dict[str, Any], context: str = "", *, pool_size: int = 0) -> kubernetes.client.ApiClient:
    """A client for a kubeconfig held as a dict (e.g. credentials the server stores), with room for
    ``pool_size`` concurrent connections (0: the client's default), as watching many kinds at once needs."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
            config_dict=config, context=context or None, client_configuration=configuration, persist_config=False)
    except (kubernetes.config.config_exception.ConfigException, OSError, ValueError, TypeError) as exc:
        raise SourceError(f"cannot use the stored Kubernetes credentials: {exc}") from exc
    if pool_size:
        configuration.connection_pool_maxsize = pool_size
    return kubernetes.client.ApiClient(configuration)


def collect_cluster(kubeconfig: str = "", context: str = "", *, client: kubernetes.client.ApiClient | None = None,
                    page_size: int = PAGE_SIZE, kinds: tuple[ApiKind, ...] = KINDS,
                    versions: dict[str, str] | None = None) -> K8sCollected:
    """Every object of ``kinds`` in the cluster. Unreachable server or rejected credentials (401):
    :class:`SourceError`; a kind forbidden (403) or not served (404): a :class:`K8sSkipped`.

    ``versions``, when given, receives per listed kind the ``resourceVersion`` of its list: where a
    watch of that kind starts so that it misses nothing after this collection (kinds skipped are absent)."""
    client = client or api_client(kubeconfig, context)
    host = str(client.configuration.host)
    source = f"cluster:{host}"
    objects: list[K8sObject] = []
    skipped: list[K8sSkipped] = []
    for kind in kinds:
        meta: dict[str, str] = {}
        try:
            for item in _list_all(client, kind, page_size, meta):
                objects.append(_object(item, kind, source))
            if versions is not None:
                versions[kind.kind] = meta.get("resourceVersion", "")  # "": a watch must list first
        except kubernetes.client.exceptions.ApiException as exc:
            if exc.status in (403, 404):
                reason = "forbidden" if exc.status == 403 else "not served by this cluster"
                skipped.append(K8sSkipped(source, f"{kind.kind}: {reason} (HTTP {exc.status}: {_message(exc)})"))
                continue
            if exc.status == 401:
                raise SourceError(f"{host}: credentials rejected (HTTP 401)") from exc
            raise SourceError(f"{host}: listing {kind.kind} failed: HTTP {exc.status} {_message(exc)}") from exc
        except urllib3.exceptions.HTTPError as exc:
            # Connection refused, TLS failures, timeouts: nothing else will work either.
            raise SourceError(f"cannot reach {host}: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise SourceError(f"{host}: listing {kind.kind} failed: {exc}") from exc
    return K8sCollected(tuple(objects), tuple(skipped))


def _method(client: kubernetes.client.ApiClient, kind: ApiKind) -> Any:
    return getattr(getattr(kubernetes.client, kind.api)(client), kind.method)


def _list_all(client: kubernetes.client.ApiClient, kind: ApiKind, page_size: int,
              meta: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    method = _method(client, kind)
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
        found = data.get("metadata")
        list_meta: dict[str, Any] = found if isinstance(found, dict) else {}
        if meta is not None and list_meta.get("resourceVersion"):
            # Every page of a paged list is the same snapshot: any page's version will do.
            meta["resourceVersion"] = str(list_meta["resourceVersion"])
        token = list_meta.get("continue") or None
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


class WatchError(SourceError):
    """A watch that cannot go on: ``status`` is the HTTP status or the ERROR event's ``code`` (0: the
    connection failed or broke)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class WatchExpired(WatchError):
    """410 Gone: the resourceVersion is older than the server keeps history for; relist, then watch
    from the new list's version."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 410)


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch: ``ADDED``, ``MODIFIED``, ``DELETED`` or ``BOOKMARK``, and the object."""

    type: str
    kind: str
    raw: dict[str, Any] = field(compare=False, repr=False)
    """The object (a BOOKMARK's carries only ``metadata.resourceVersion``)."""

    @property
    def metadata(self) -> dict[str, Any]:
        """``metadata`` of the object (empty when missing)."""
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def resource_version(self) -> str:
        """The version to resume the watch from after this event."""
        return str(self.metadata.get("resourceVersion") or "")

    @property
    def namespace(self) -> str:
        """``metadata.namespace`` ("" for cluster-scoped kinds)."""
        return str(self.metadata.get("namespace") or "")

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return str(self.metadata.get("name") or "")


def list_kind(client: kubernetes.client.ApiClient, kind: ApiKind,
              page_size: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], str]:
    """Every object of one kind (with kind and apiVersion set) and the list's resourceVersion; the
    errors of :func:`collect_cluster` (403/404 as a :class:`WatchError` with that status)."""
    host = str(client.configuration.host)
    meta: dict[str, str] = {}
    try:
        items = [dict(_object(item, kind, "").raw) for item in _list_all(client, kind, page_size, meta)]
    except kubernetes.client.exceptions.ApiException as exc:
        raise WatchError(f"{host}: listing {kind.kind} failed: HTTP {exc.status} {_message(exc)}",
                         int(exc.status or 0)) from exc
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        raise WatchError(f"{host}: listing {kind.kind} failed: {exc}") from exc
    return items, meta.get("resourceVersion", "")


class WatchStream:
    """One open watch of a kind in every namespace, from ``resource_version``.

    Iterate :meth:`events` in one thread; :meth:`close` from any other thread ends it at once (it
    shuts the socket down, so a read blocked on a quiet stream returns). The stream ends normally
    when the server's ``timeoutSeconds`` is up; 410 Gone (as the HTTP status or an ERROR event) is
    :class:`WatchExpired`, every other failure a :class:`WatchError`."""

    def __init__(self, client: kubernetes.client.ApiClient, kind: ApiKind, resource_version: str, *,
                 timeout_seconds: int = WATCH_TIMEOUT) -> None:
        self.kind = kind
        self.host = str(client.configuration.host)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        try:
            response = _method(client, kind)(
                watch=True, resource_version=resource_version or None, allow_watch_bookmarks=True,
                timeout_seconds=timeout_seconds, _preload_content=False,
                # The read timeout outlasts the server's own: a silent stream is closed by the server.
                _request_timeout=(CONNECT_TIMEOUT, timeout_seconds + 30))
        except kubernetes.client.exceptions.ApiException as exc:
            status = int(exc.status or 0)
            message = f"{self.host}: watching {kind.kind} failed: HTTP {status} {_message(exc)}"
            raise (WatchExpired(message) if status == 410 else WatchError(message, status)) from exc
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise WatchError(f"cannot reach {self.host} to watch {kind.kind}: {exc}") from exc
        self._response: urllib3.HTTPResponse = response

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed.is_set()

    def close(self) -> None:
        """End the stream (idempotent, from any thread)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            # ValueError/RuntimeError: already released, nothing is blocked on it.
            with contextlib.suppress(ValueError, RuntimeError, OSError):
                self._response.shutdown()

    def events(self) -> Iterator[WatchEvent]:
        """The events until the server ends the stream or :meth:`close` is called."""
        clean = False
        try:
            for line in self._lines():
                event = self._event(line)
                if event is not None:
                    yield event
            clean = not self.closed
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if not self.closed:
                raise WatchError(f"watch of {self.kind.kind} on {self.host} broke: {exc}") from exc
        finally:
            self._release(clean)

    def _chunks(self) -> Iterator[bytes]:
        # The API server streams a watch chunked (each event flushed as it happens); a stream without
        # chunking is read as bytes arrive rather than to its end.
        if self._response.chunked and self._response.supports_chunked_reads():
            yield from self._response.stream(amt=None, decode_content=True)
            return
        while data := self._response.read1(65536):
            yield data

    def _lines(self) -> Iterator[bytes]:
        buffer = b""
        for chunk in self._chunks():
            if self.closed:
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            yield from (line for line in complete if line.strip())
        if buffer.strip() and not self.closed:
            yield buffer

    def _event(self, line: bytes) -> WatchEvent | None:
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise WatchError(f"watch of {self.kind.kind} on {self.host} sent a line that is not JSON: "
                             f"{line[:200]!r}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
            raise WatchError(f"watch of {self.kind.kind} on {self.host} sent a line that is not a WatchEvent")
        kind, obj = str(data.get("type") or ""), data["object"]
        if kind == "ERROR":
            code = int(obj.get("code") or 0)
            message = (f"watch of {self.kind.kind} on {self.host}: {obj.get('reason') or 'error'} "
                       f"({code}): {obj.get('message') or ''}")
            raise WatchExpired(message) if code == 410 else WatchError(message, code)
        if kind not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
            return None  # a type added by a later API version: nothing we can act on
        raw = {"apiVersion": self.kind.api_version, "kind": self.kind.kind, **obj}
        return WatchEvent(kind, self.kind.kind, raw)

    def _release(self, reusable: bool) -> None:
        # A stream read to its end leaves a reusable connection; a broken or shut one is dropped.
        with contextlib.suppress(OSError, urllib3.exceptions.HTTPError):
            if not reusable:
                self._response.close()
            self._response.release_conn()
