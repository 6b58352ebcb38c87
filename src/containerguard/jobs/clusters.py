"""Continuous Kubernetes posture: collect each registered cluster with its stored credentials, run
every Kubernetes check (the same as ``scan k8s``), and store the results per workload.

Clusters are assessed when registered, on demand and every ``CONTAINERGUARD_CLUSTER_INTERVAL``
seconds (default 900; a cluster's own ``interval`` overrides it). The schedule lives in the store
(``clusters.due_at``): a restart loses nothing, and a claim is a conditional update.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from containerguard.checks.k8s.allowlists import config_from_env
from containerguard.checks.k8s.base import Inventory
from containerguard.errors import ConfigError, SourceError
from containerguard.models.k8s import K8sCollected, K8sObject
from containerguard.store.clusters import (
    PostureDiff,
    WorkloadInfo,
    access,
    claim_due,
    get_cluster,
    record_assessment,
    record_failure,
)

from .context import JobContext

log = logging.getLogger("containerguard.jobs")
DEFAULT_INTERVAL = 900.0
POLL = 5.0
"""Seconds between looks for due clusters (a registration or ``/assess`` wakes the loop at once)."""
STOP_CHECK = 0.2
_wake = threading.Event()


def cluster_interval() -> float:
    """Seconds between assessments of a cluster (``CONTAINERGUARD_CLUSTER_INTERVAL``)."""
    raw = os.environ.get("CONTAINERGUARD_CLUSTER_INTERVAL", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError as exc:
        raise ConfigError(f"CONTAINERGUARD_CLUSTER_INTERVAL must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError("CONTAINERGUARD_CLUSTER_INTERVAL must be > 0 seconds")
    return value


def wake() -> None:
    """Look for due clusters now (after a registration or an on-demand request)."""
    _wake.set()


def _collect(config: dict[str, Any], context: str, versions: dict[str, str] | None = None) -> K8sCollected:
    # Imported here: the kubernetes client is slow to import and only needed once a cluster exists.
    import kubernetes
    from kubernetes.config.config_exception import ConfigException

    from containerguard.sources.k8s_api import collect_cluster

    try:
        client = kubernetes.config.new_client_from_config_dict(  # type: ignore[no-untyped-call]
            config_dict=config, context=context or None, persist_config=False)
    except (ConfigException, OSError, ValueError, TypeError) as exc:
        raise SourceError(f"cannot use the stored Kubernetes credentials: {exc}") from exc
    try:
        return collect_cluster(client=client, versions=versions)
    finally:
        client.close()


def _owners(obj: K8sObject) -> list[Mapping[str, Any]]:
    refs = obj.metadata.get("ownerReferences")
    return [r for r in refs if isinstance(r, Mapping) and r.get("controller") is True] if isinstance(refs, list) \
        else []


def workloads(collected: K8sCollected) -> list[WorkloadInfo]:
    """The workloads the checks assess (top-most controllers, bare pods), each with its containers'
    images, and the digests running pods report for them (``status.containerStatuses[].imageID``)."""
    inventory = Inventory(collected.objects)
    by_uid = {o.uid: o for o in collected.objects if o.uid}
    by_name = {(o.kind, o.namespace, o.name): o for o in collected.objects}

    def top(obj: K8sObject) -> K8sObject:
        seen = {id(obj)}
        while True:
            parent = None
            for ref in _owners(obj):
                parent = by_uid.get(str(ref.get("uid") or "")) or by_name.get(
                    (str(ref.get("kind") or ""), obj.namespace, str(ref.get("name") or "")))
                if parent is not None:
                    break
            if parent is None or id(parent) in seen:
                return obj
            seen.add(id(parent))
            obj = parent

    running: dict[tuple[int, str], str] = {}
    for live in inventory.of_kind("Pod"):
        status = live.raw.get("status")
        statuses = status.get("containerStatuses") if isinstance(status, Mapping) else None
        owner = top(live)
        for cs in statuses if isinstance(statuses, list) else ():
            if isinstance(cs, Mapping) and cs.get("imageID"):
                running.setdefault((id(owner), str(cs.get("name") or "")), str(cs["imageID"]))
    out = []
    for pod in inventory.pods():
        containers = tuple({"name": c.name, "kind": c.kind, "image": str(c.raw.get("image") or ""),
                            "image_id": running.get((id(pod.obj), c.name), "")}
                           for c in pod.containers())
        out.append(WorkloadInfo(pod.obj.kind, pod.obj.namespace, pod.obj.name, pod.obj.uid, containers))
    return out


def assess_cluster(ctx: JobContext, cluster_id: int) -> PostureDiff | None:
    """Collect and assess one cluster and store the outcome; None when collection failed (the
    error is kept on the cluster and as an event) or the cluster is gone."""
    from containerguard.pipeline.k8s_audit import audit

    with ctx.store.session() as session:
        row = get_cluster(session, cluster_id)
        if row is None:
            return None
        try:
            creds = access(row, ctx.cipher)
        except ConfigError as exc:
            record_failure(session, row, str(exc))
            return None
    versions: dict[str, str] = {}
    try:
        collected = _collect(creds.config_dict(), creds.context, versions)
    except SourceError as exc:
        log.warning("cluster %s: %s", creds.name, exc)
        with ctx.store.session() as session:
            row = get_cluster(session, cluster_id)
            if row is not None:
                record_failure(session, row, str(exc))
        return None
    result = audit(collected, config_from_env())
    notes = [f"{s.reason}" for s in result.skipped] + list(result.notes)
    with ctx.store.session() as session:
        row = get_cluster(session, cluster_id)
        if row is None:  # deleted while we collected
            return None
        diff = record_assessment(session, row, result.results, workloads(collected), notes)
    from .cluster_watch import record_baseline

    record_baseline(cluster_id, collected, versions)  # the cluster's watches start from these lists
    log.info("cluster %s assessed: %d result(s), %d failing, %d new failure(s), %d fixed", creds.name,
             diff.results, diff.failing, len(diff.new_failures), len(diff.fixed))
    return diff


class ClusterScheduler:
    """The loop assessing due clusters, one at a time, until ``stopping`` is set."""

    def __init__(self, ctx: JobContext, stopping: threading.Event) -> None:
        self.ctx = ctx
        self.stopping = stopping

    def run(self) -> None:
        """Assess due clusters until stopped (a thread's target)."""
        next_round = 0.0
        while not self.stopping.is_set():
            if _wake.is_set() or time.monotonic() >= next_round:
                _wake.clear()
                next_round = time.monotonic() + POLL
                try:
                    self.run_due()
                except Exception:  # the database is briefly away: keep the loop alive
                    log.exception("cluster assessment round failed")
            # Short waits: a stopping server is not held up, a wake is seen at once.
            _wake.wait(STOP_CHECK)

    def run_due(self) -> int:
        """Assess every cluster due now; returns how many were assessed."""
        interval = cluster_interval()
        with self.ctx.store.sessions() as session:
            due = claim_due(session, interval)
        for cluster_id in due:
            if self.stopping.is_set():
                break
            try:
                assess_cluster(self.ctx, cluster_id)
            except Exception:
                log.exception("assessing cluster %d failed", cluster_id)
        return len(due)
