"""Continuous Kubernetes posture between scheduled assessments: watch every registered cluster and
re-assess it soon after a relevant change.

For each cluster the server keeps one watch per kind the assessment lists (``sources.k8s_api.KINDS``)
with the same client and credentials as the collector, started from the ``resourceVersion`` of the
last assessment's lists (:func:`record_baseline`), so nothing after that collection is missed. A
change is *relevant* when it can change a check result: an object added or deleted, or modified in
anything but ``status`` and bookkeeping metadata (a ``spec.replicas`` scale is not one either), and
never for objects a workload controller owns (a Deployment's ReplicaSets and Pods are assessed at
the Deployment, whose own events count). Relevant changes are coalesced: the first starts a window
that closes once no change came for ``CONTAINERGUARD_WATCH_DEBOUNCE`` seconds (default 5), or at the
latest after ``MAX_DELAY_FACTOR`` times that; then the cluster is made due (the scheduler in
:mod:`.clusters` assesses it) and a ``watch-triggered`` event records what triggered it.

Watch protocol handling: BOOKMARKs only move the resume point; 410 Gone (an ERROR event or the HTTP
status: the version is older than the server keeps) relists the kind and diffs it against what was
known, a difference being a trigger of its own; any other ERROR event or a dropped connection
reconnects from the last version seen, with exponential backoff; 403/404 on a kind stops watching
that kind and records a ``watch-note`` event (its changes then wait for the schedule). Watches end
when the cluster is deleted or the server stops. ``CONTAINERGUARD_CLUSTER_WATCH=0`` turns this off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from containerguard.errors import ConfigError, SourceError
from containerguard.models.k8s import K8sCollected
from containerguard.store.clusters import access, list_clusters, request_assessment
from containerguard.store.tables import ClusterEventRow, utcnow

from .context import JobContext

if TYPE_CHECKING:
    from containerguard.sources.k8s_api import ApiKind, WatchStream

log = logging.getLogger("containerguard.jobs")

DEFAULT_DEBOUNCE = 5.0
MAX_DELAY_FACTOR = 6.0
"""A steady stream of changes still triggers an assessment every ``MAX_DELAY_FACTOR`` times the debounce."""
SYNC = 5.0
"""Seconds between looks at the registered clusters (a new baseline wakes the loop at once)."""
TICK = 0.1
BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
QUICK_END = 1.0
"""A stream that ends this fast without any event counts as a failure (no tight reconnect loop)."""
JOIN_TIMEOUT = 3.0
MAX_TRIGGERS = 20
"""Triggers kept in one event's data (the message and ``changes`` count them all)."""
WATCH_TRIGGERED = "watch-triggered"
WATCH_NOTE = "watch-note"

WORKLOAD_OWNERS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                             "ReplicationController"})
"""Controllers whose owned objects are assessed at the controller (their own events are enough)."""
VOLATILE_METADATA = frozenset({"resourceVersion", "managedFields", "generation", "selfLink"})
REPLICA_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})

_wake = threading.Event()
_baselines: dict[int, Baseline] = {}
_lock = threading.Lock()


def watch_enabled() -> bool:
    """Whether clusters are watched (``CONTAINERGUARD_CLUSTER_WATCH``, default on)."""
    return os.environ.get("CONTAINERGUARD_CLUSTER_WATCH", "1").strip().lower() not in ("0", "false", "no", "off")


def watch_debounce() -> float:
    """Seconds of quiet after a change before the cluster is re-assessed (``CONTAINERGUARD_WATCH_DEBOUNCE``)."""
    raw = os.environ.get("CONTAINERGUARD_WATCH_DEBOUNCE", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_DEBOUNCE
    except ValueError as exc:
        raise ConfigError(f"CONTAINERGUARD_WATCH_DEBOUNCE must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError("CONTAINERGUARD_WATCH_DEBOUNCE must be > 0 seconds")
    return value


# -- what counts as a change ------------------------------------------------------------------------

Key = tuple[str, str]
"""(namespace, name) of an object within its kind."""


def owned_by_workload(raw: Mapping[str, Any]) -> bool:
    """True when a workload controller owns the object (it is assessed at that controller)."""
    meta = raw.get("metadata")
    refs = meta.get("ownerReferences") if isinstance(meta, Mapping) else None
    return any(isinstance(r, Mapping) and r.get("controller") is True and r.get("kind") in WORKLOAD_OWNERS
               for r in (refs if isinstance(refs, list) else ()))


def fingerprint(kind: str, raw: Mapping[str, Any]) -> str:
    """A digest of what the checks can read of an object: everything but ``status``, bookkeeping
    metadata and, for scalable kinds, ``spec.replicas``."""
    relevant = {k: v for k, v in raw.items() if k != "status"}
    meta = raw.get("metadata")
    if isinstance(meta, Mapping):
        relevant["metadata"] = {k: v for k, v in meta.items() if k not in VOLATILE_METADATA}
    spec = raw.get("spec")
    if kind in REPLICA_KINDS and isinstance(spec, Mapping):
        relevant["spec"] = {k: v for k, v in spec.items() if k != "replicas"}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()


def _key(raw: Mapping[str, Any]) -> Key:
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def describe(kind: str, key: Key, what: str) -> str:
    """How a trigger reads: ``watch: Deployment shop/web MODIFIED``."""
    namespace, name = key
    return f"watch: {kind} {namespace + '/' if namespace else ''}{name} {what}"


def apply_event(kind: str, event_type: str, raw: Mapping[str, Any], known: dict[Key, str]) -> str | None:
    """Update ``known`` (key -> fingerprint of the tracked objects of ``kind``) with one watch event;
    the trigger text when the event is a relevant change, else None."""
    key = _key(raw)
    if event_type == "DELETED" or owned_by_workload(raw):
        # An object adopted by a controller leaves the set assessed on its own: a change too.
        return describe(kind, key, event_type) if known.pop(key, None) is not None else None
    digest = fingerprint(kind, raw)
    if known.get(key) == digest:
        return None
    known[key] = digest
    return describe(kind, key, event_type)


def fingerprints(kind: str, items: Iterable[Mapping[str, Any]]) -> dict[Key, str]:
    """The tracked objects of a list, as :func:`apply_event` keeps them."""
    return {_key(raw): fingerprint(kind, raw) for raw in items if not owned_by_workload(raw)}


def diff(kind: str, before: Mapping[Key, str], after: Mapping[Key, str]) -> list[str]:
    """Triggers for what changed between two lists of ``kind``."""
    out = [describe(kind, k, "ADDED") for k in after if k not in before]
    out += [describe(kind, k, "MODIFIED") for k in after if k in before and before[k] != after[k]]
    out += [describe(kind, k, "DELETED") for k in before if k not in after]
    return out


# -- baselines handed over by assessments -----------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """What one assessment listed: per kind, the list's resourceVersion and the tracked objects."""

    versions: dict[str, str]
    known: dict[str, dict[Key, str]] = field(default_factory=dict)


def record_baseline(cluster_id: int, collected: K8sCollected, versions: Mapping[str, str]) -> None:
    """Hand the watcher what an assessment of ``cluster_id`` collected (the watch starts from it)."""
    known: dict[str, dict[Key, str]] = {kind: {} for kind in versions}
    for obj in collected.objects:
        if obj.kind in known and not owned_by_workload(obj.raw):
            known[obj.kind][(obj.namespace, obj.name)] = fingerprint(obj.kind, obj.raw)
    with _lock:
        _baselines[cluster_id] = Baseline(dict(versions), known)
    _wake.set()


def _take_baseline(cluster_id: int) -> Baseline | None:
    with _lock:
        return _baselines.pop(cluster_id, None)


def _forget_baseline(cluster_id: int) -> None:
    with _lock:
        _baselines.pop(cluster_id, None)


# -- one cluster ------------------------------------------------------------------------------------

class _Pending:
    """Coalesces triggers of one cluster: due after ``debounce`` s of quiet, at most ``max_delay`` s."""

    def __init__(self, debounce: float) -> None:
        self.debounce = debounce
        self.max_delay = debounce * MAX_DELAY_FACTOR
        self._lock = threading.Lock()
        self._triggers: list[str] = []
        self._count = 0
        self._first = self._last = 0.0

    def add(self, triggers: Iterable[str]) -> None:
        """Record relevant changes."""
        with self._lock:
            for trigger in triggers:
                now = time.monotonic()
                if not self._count:
                    self._first = now
                self._last = now
                self._count += 1
                if len(self._triggers) < MAX_TRIGGERS:
                    self._triggers.append(trigger)

    def due(self) -> tuple[list[str], int] | None:
        """The triggers and their count when the window closed (and a new one starts), else None."""
        now = time.monotonic()
        with self._lock:
            if not self._count or (now - self._last < self.debounce and now - self._first < self.max_delay):
                return None
            out = (self._triggers, self._count)
            self._triggers, self._count = [], 0
            return out


class ClusterWatch:
    """The watches of one cluster: a thread per kind, a shared client, the pending triggers."""

    def __init__(self, cluster_id: int, name: str, config: dict[str, Any], context: str, baseline: Baseline,
                 debounce: float) -> None:
        from containerguard.sources.k8s_api import KINDS, client_from_dict

        self.cluster_id, self.name = cluster_id, name
        self.kinds = [k for k in KINDS if k.kind in baseline.versions]
        self.client = client_from_dict(config, context, pool_size=len(self.kinds) + 4)
        self.pending = _Pending(debounce)
        self.notes: list[str] = []
        self._notes_lock = threading.Lock()
        self._baseline = baseline
        self._stop = threading.Event()
        self._streams: set[WatchStream] = set()
        self._streams_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.created_at: datetime | None = None
        """When the watched cluster was registered (tells a re-registration under the same id apart)."""

    def start(self) -> None:
        """Start one watch thread per kind."""
        for kind in self.kinds:
            thread = threading.Thread(target=self._watch_kind, args=(kind,), daemon=True,
                                      name=f"cg-watch-{self.cluster_id}-{kind.kind}")
            thread.start()
            self._threads.append(thread)

    def signal(self) -> None:
        """Ask every watch to end now (open streams are shut, so no read stays blocked)."""
        self._stop.set()
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    def join(self, deadline: float) -> None:
        """Wait for the threads until ``deadline`` (monotonic), then release the client."""
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.client.close()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        """End every watch now and wait briefly for the threads."""
        self.signal()
        self.join(time.monotonic() + JOIN_TIMEOUT)

    def take_notes(self) -> list[str]:
        """Notes gathered since the last call."""
        with self._notes_lock:
            notes, self.notes = self.notes, []
        return notes

    def _note(self, text: str) -> None:
        log.warning("cluster %s: %s", self.name, text)
        with self._notes_lock:
            self.notes.append(text)

    def _watch_kind(self, kind: ApiKind) -> None:
        from containerguard.sources.k8s_api import WATCH_TIMEOUT, WatchError, WatchExpired, WatchStream

        version = self._baseline.versions.get(kind.kind, "")
        known = dict(self._baseline.known.get(kind.kind, {}))
        backoff = BACKOFF_START
        relist_reason = "" if version else "no list version"
        expired = seen = 0
        while not self._stop.is_set():
            try:
                if relist_reason:
                    version, known = self._relist(kind, known, relist_reason)
                    relist_reason = ""
                started, seen = time.monotonic(), 0
                # Spread the server-side timeouts so a cluster's watches do not all reconnect together.
                stream = WatchStream(self.client, kind, version,
                                     timeout_seconds=random.randint(WATCH_TIMEOUT, 2 * WATCH_TIMEOUT))
                with self._streams_lock:
                    self._streams.add(stream)
                if self._stop.is_set():  # stopped while connecting
                    stream.close()
                try:
                    for event in stream.events():
                        seen += 1
                        version = event.resource_version or version
                        if event.type != "BOOKMARK":
                            trigger = apply_event(kind.kind, event.type, event.raw, known)
                            if trigger:
                                self.pending.add([trigger])
                        backoff = BACKOFF_START
                finally:
                    with self._streams_lock:
                        self._streams.discard(stream)
                expired = 0
                if seen or time.monotonic() - started >= QUICK_END:
                    continue  # the server's timeoutSeconds: resume at once from the last version
                log.info("cluster %s: watch of %s ended at once; retrying in %.1fs", self.name, kind.kind, backoff)
            except WatchExpired:
                # Consecutive expiries (no event in between) mean the relist's version expires at once.
                relist_reason, expired = "410 Gone", 1 if seen else expired + 1
                log.info("cluster %s: %s version %s expired; relisting", self.name, kind.kind, version)
                if expired == 1:
                    continue  # relist at once; a fresh version expiring again waits like any failure
            except WatchError as exc:
                if self._stop.is_set():
                    return
                if exc.status in (403, 404):
                    why = "forbidden" if exc.status == 403 else "not served"
                    self._note(f"watch: {kind.kind}: {why} (HTTP {exc.status}); its changes are picked up by "
                               f"the scheduled assessment only")
                    return
                log.info("cluster %s: %s; retrying in %.1fs", self.name, exc, backoff)
            except Exception:  # never let one kind's thread die silently
                log.exception("cluster %s: watching %s failed", self.name, kind.kind)
            if self._stop.wait(backoff):
                return
            backoff = min(BACKOFF_MAX, backoff * 2)

    def _relist(self, kind: ApiKind, known: dict[Key, str], reason: str) -> tuple[str, dict[Key, str]]:
        from containerguard.sources.k8s_api import list_kind

        items, version = list_kind(self.client, kind)
        fresh = fingerprints(kind.kind, items)
        changes = diff(kind.kind, known, fresh)
        if changes:
            self.pending.add(f"{c} (relisted after {reason})" for c in changes)
        return version, fresh


# -- the loop the dispatcher runs -------------------------------------------------------------------

class ClusterWatcher:
    """Keeps a :class:`ClusterWatch` per registered cluster that has a baseline, turns their coalesced
    changes into assessments, and stops them all when ``stopping`` is set (a thread's target)."""

    def __init__(self, ctx: JobContext, stopping: threading.Event) -> None:
        self.ctx = ctx
        self.stopping = stopping
        self.watches: dict[int, ClusterWatch] = {}

    def run(self) -> None:
        """Watch until stopped."""
        if not watch_enabled():
            log.info("cluster watches are off (CONTAINERGUARD_CLUSTER_WATCH)")
            return
        debounce = watch_debounce()
        next_sync = 0.0
        try:
            while not self.stopping.is_set():
                if _wake.is_set() or time.monotonic() >= next_sync:
                    _wake.clear()
                    next_sync = time.monotonic() + SYNC
                    try:
                        self.sync(debounce)
                    except Exception:  # the database is briefly away: keep the loop alive
                        log.exception("cluster watch sync failed")
                try:
                    self.flush()
                except Exception:
                    log.exception("recording cluster watch triggers failed")
                _wake.wait(TICK)
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        """End every cluster's watches (signalled together, so stopping takes one join timeout)."""
        watches = list(self.watches.values())
        self.watches.clear()
        for watch in watches:
            watch.signal()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for watch in watches:
            watch.join(deadline)

    def sync(self, debounce: float) -> None:
        """Start watches of clusters with a new baseline, stop those of deleted clusters."""
        with self.ctx.store.session() as session:
            rows = {row.id: row for row in list_clusters(session)}
            for cluster_id, watch in list(self.watches.items()):
                row = rows.get(cluster_id)
                if row is None:
                    self._drop(cluster_id)
                elif row.created_at != watch.created_at:
                    # Deleted and registered again under the same id (SQLite reuses the highest id):
                    # the new cluster's baseline, if already handed over, stays for the new watch.
                    self._drop(cluster_id, forget=False)
            starts = []
            for cluster_id in rows.keys() - self.watches.keys():
                baseline = _take_baseline(cluster_id)
                if baseline is None:
                    continue  # not assessed yet (or not since this server started): the assessment hands it over
                try:
                    creds = access(rows[cluster_id], self.ctx.cipher)
                except ConfigError as exc:
                    log.warning("cluster %s: cannot watch: %s", rows[cluster_id].name, exc)
                    continue
                starts.append((creds, rows[cluster_id].created_at, baseline))
        for creds, created_at, baseline in starts:
            try:
                watch = ClusterWatch(creds.id, creds.name, creds.config_dict(), creds.context, baseline, debounce)
            except SourceError as exc:
                log.warning("cluster %s: cannot watch: %s", creds.name, exc)
                continue
            watch.created_at = created_at
            watch.start()
            self.watches[creds.id] = watch
            log.info("cluster %s: watching %d kind(s)", creds.name, len(watch.kinds))

    def flush(self) -> None:
        """Record notes, and make each cluster whose change window closed due for assessment."""
        from . import clusters

        for cluster_id, watch in list(self.watches.items()):
            notes = watch.take_notes()
            due = watch.pending.due()
            if not notes and due is None:
                continue
            with self.ctx.store.session() as session:
                if due is not None and not request_assessment(session, cluster_id):
                    gone = True
                else:
                    gone = False
                    now = utcnow()
                    for note in notes:
                        session.add(ClusterEventRow(cluster_id=cluster_id, kind=WATCH_NOTE, message=note, data={},
                                                    created_at=now))
                    if due is not None:
                        triggers, count = due
                        more = f" (+{count - 1} more)" if count > 1 else ""
                        session.add(ClusterEventRow(cluster_id=cluster_id, kind=WATCH_TRIGGERED,
                                                    message=triggers[0] + more, created_at=now,
                                                    data={"triggers": triggers, "changes": count}))
            if gone:
                self._drop(cluster_id)
            elif due is not None:
                log.info("cluster %s: re-assessing after %d change(s): %s", watch.name, due[1], due[0][0])
                clusters.wake()

    def _drop(self, cluster_id: int, *, forget: bool = True) -> None:
        watch = self.watches.pop(cluster_id, None)
        if forget:
            _forget_baseline(cluster_id)
        if watch is not None:
            watch.stop()
