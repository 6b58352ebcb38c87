"""The server's runtime-alert pipeline: record alerts (deduplicated), forward new ones to a webhook and
syslog, and evaluate Kubernetes audit events from the webhook through a bounded queue.

Environment: ``CONTAINERGUARD_RULES`` (rules files beside the built-in pack, separated by ``,`` or the
path separator), ``CONTAINERGUARD_ALERT_WEBHOOK`` (URL, JSON POST of each new alert),
``CONTAINERGUARD_SYSLOG`` (``host:port``, RFC 5424 over UDP), ``CONTAINERGUARD_ALERT_DEDUP_SECONDS``
(window, default 300), ``CONTAINERGUARD_AUDIT_QUEUE`` (audit events held at most, default 10000).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client import Counter, Gauge

from containerguard.errors import ConfigError
from containerguard.rules.compiler import CompiledRules, compile_rules
from containerguard.rules.engine import Engine
from containerguard.rules.fields.common import parse_time
from containerguard.rules.loader import Loader
from containerguard.rules.model import Alert, Event
from containerguard.sources.events import k8s_audit
from containerguard.sources.events.base import ReadStats
from containerguard.store.alerts import PRIORITY_RANKS, AlertIn, alert_doc, record_alert
from containerguard.store.db import Store

from .metrics import ServerMetrics

log = logging.getLogger("containerguard.alerts")
SYSLOG_FACILITY = 16  # local0
_MAX_ALERT_BYTES = 256 << 10


def builtin_rule_files() -> list[Path]:
    """The built-in rule pack."""
    folder = resources.files("containerguard.rules") / "builtin"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def rule_files_from_env() -> list[Path]:
    """``CONTAINERGUARD_RULES``: extra rules files, loaded after the built-in pack."""
    raw = os.environ.get("CONTAINERGUARD_RULES", "").strip()
    parts = [p.strip() for chunk in raw.split(",") for p in chunk.split(os.pathsep)]
    return [Path(p) for p in parts if p]


def load_server_rules(extra: list[Path]) -> CompiledRules:
    """The built-in pack, then ``extra`` in order (later files append to/override earlier ones)."""
    loader = Loader()
    for path in [*builtin_rule_files(), *extra]:
        if not path.is_file():
            raise ConfigError(f"rules file {path} not found (CONTAINERGUARD_RULES)")
        loader.load_path(path)
    compiled = compile_rules(loader.rs)
    for diag in compiled.diagnostics:
        if diag.is_error:
            log.error("rules: %s", diag)
    return compiled


def audit_context(ev: Event) -> dict[str, Any]:
    """The object and user an audit event is about, for naming the alert's resource."""
    data: dict[str, Any] = ev.data if isinstance(ev.data, dict) else {}
    raw_ref, raw_user = data.get("objectRef"), data.get("user")
    ref: dict[str, Any] = raw_ref if isinstance(raw_ref, dict) else {}
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    return {"ka.target.namespace": ref.get("namespace"), "ka.target.resource": ref.get("resource"),
            "ka.target.name": ref.get("name"), "ka.target.subresource": ref.get("subresource"),
            "ka.user.name": user.get("username")}


def alert_in(alert: Alert, context: dict[str, Any] | None = None) -> AlertIn:
    """An engine alert -> what the store records."""
    when = datetime.fromtimestamp(alert.time_ns / 1e9, UTC) if alert.time_ns else datetime.now(UTC)
    return AlertIn(rule=alert.rule, priority=alert.priority, output=alert.output, time=when, source=alert.source,
                   tactic=alert.tactic or "", techniques=alert.techniques, tags=alert.tags,
                   output_fields=alert.output_fields, hostname=alert.hostname, context=context or {})


def alert_from_json(obj: Any) -> AlertIn:
    """A Falco ``json_output`` alert (plus ``tactic``/``techniques``) -> AlertIn; ConfigError when it is not one."""
    if not isinstance(obj, dict):
        raise ConfigError("an alert must be a JSON object")
    rule, priority, output = obj.get("rule"), obj.get("priority"), obj.get("output")
    if not isinstance(rule, str) or not rule or not isinstance(output, str):
        raise ConfigError("an alert needs 'rule' and 'output' strings")
    prio = {p.lower(): p for p in PRIORITY_RANKS} | {"info": "Informational"}
    if not isinstance(priority, str) or priority.lower() not in prio:
        raise ConfigError(f"alert 'priority' must be one of {', '.join(PRIORITY_RANKS)}")
    fields = obj.get("output_fields") or {}
    if not isinstance(fields, dict):
        raise ConfigError("alert 'output_fields' must be an object")
    if len(orjson.dumps(obj)) > _MAX_ALERT_BYTES:
        raise ConfigError("alert larger than 256 KiB")
    ns = parse_time(obj.get("time"))
    when = datetime.fromtimestamp(ns / 1e9, UTC) if ns else datetime.now(UTC)
    raw_tags, raw_techniques = obj.get("tags"), obj.get("techniques")
    tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
    techniques: list[Any] = raw_techniques if isinstance(raw_techniques, list) else []
    tactic = obj.get("tactic") if isinstance(obj.get("tactic"), str) else ""
    if not tactic:
        tactic = next((t[6:] for t in tags if isinstance(t, str) and t.startswith("mitre_")), "")
    return AlertIn(rule=rule[:300], priority=prio[priority.lower()], output=output, time=when,
                   source=str(obj.get("source") or "")[:40], tactic=tactic[:100],
                   techniques=tuple(str(t) for t in techniques), tags=tuple(str(t) for t in tags),
                   output_fields=fields, hostname=str(obj.get("hostname") or "")[:300])


def syslog_message(doc: dict[str, Any], hostname: str) -> bytes:
    """An RFC 5424 message for an alert doc (Falco's priorities are syslog's severities, in order)."""
    pri = SYSLOG_FACILITY * 8 + PRIORITY_RANKS.get(doc["priority"], 7)
    msg = orjson.dumps({k: doc[k] for k in ("id", "rule", "priority", "tactic", "resource", "output", "count")})
    return f"<{pri}>1 {doc['last_seen']} {hostname or '-'} containerguard - alert - ".encode() + msg


def _joined(q: queue.Queue[Any], timeout: float) -> bool:
    """Whether every item put on ``q`` was processed within ``timeout`` seconds."""
    done = threading.Event()

    def wait() -> None:
        q.join()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    return done.wait(timeout)


class Forwarder:
    """Sends new alerts to the webhook and syslog from a thread, through a bounded queue (never blocks)."""

    def __init__(self, webhook: str = "", syslog: str = "", size: int = 10_000) -> None:
        self.webhook = webhook
        self.syslog: tuple[str, int] | None = None
        if syslog:
            host, _, port = syslog.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError("CONTAINERGUARD_SYSLOG must be host:port")
            self.syslog = (host.strip("[]"), int(port))
        self.hostname = socket.gethostname()
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(size)
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        """Whether anything is configured."""
        return bool(self.webhook or self.syslog)

    def send(self, doc: dict[str, Any]) -> None:
        """Queue one alert doc (dropped and counted when the queue is full)."""
        if not self.enabled:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="cg-alert-forward", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait(doc)
        except queue.Full:
            self.dropped += 1

    def _loop(self) -> None:
        client = httpx.Client(timeout=10.0) if self.webhook else None
        while True:
            doc = self._queue.get()
            try:
                if self.syslog is not None:
                    if self._sock is None:
                        family = socket.AF_INET6 if ":" in self.syslog[0] else socket.AF_INET
                        self._sock = socket.socket(family, socket.SOCK_DGRAM)
                    self._sock.sendto(syslog_message(doc, self.hostname), self.syslog)
                if client is not None:
                    response = client.post(self.webhook, json={"kind": "alert", "alert": doc})
                    if response.status_code >= 300:
                        self.failed += 1
                        log.error("alert webhook %s answered %s", self.webhook, response.status_code)
            except (OSError, httpx.HTTPError) as exc:
                self.failed += 1
                log.error("alert forwarding failed: %s", exc)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued alert was sent (tests, shutdown)."""
        return _joined(self._queue, timeout)


@dataclass
class AuditStats:
    """Counts of the audit webhook: accepted into the queue, dropped because it was full, malformed."""

    received: int = 0
    accepted: int = 0
    dropped: int = 0
    skipped: int = 0
    evaluated: int = 0
    alerts: int = 0
    reasons: list[str] = field(default_factory=list)


class AlertRuntime:
    """One server's alert pipeline (created on first use by the routes, one per application)."""

    def __init__(self, store: Store, metrics: ServerMetrics | None = None, *, rules: CompiledRules | None = None,
                 window: float | None = None, queue_size: int | None = None,
                 forwarder: Forwarder | None = None) -> None:
        self.store = store
        self.window = timedelta(seconds=window if window is not None else
                                float(os.environ.get("CONTAINERGUARD_ALERT_DEDUP_SECONDS", "300") or 300))
        size = queue_size or int(os.environ.get("CONTAINERGUARD_AUDIT_QUEUE", "10000") or 10000)
        self.forwarder = forwarder or Forwarder(os.environ.get("CONTAINERGUARD_ALERT_WEBHOOK", "").strip(),
                                                os.environ.get("CONTAINERGUARD_SYSLOG", "").strip())
        self._rules = rules
        self.audit = AuditStats()
        self._queue: queue.Queue[Event] = queue.Queue(max(1, size))
        self._lock = threading.Lock()  # one writer: dedup is read-then-write
        self._worker: threading.Thread | None = None
        self._engine: Engine | None = None
        self._metrics(metrics)

    def _metrics(self, metrics: ServerMetrics | None) -> None:
        registry = metrics.registry if metrics is not None else None
        self.m_alerts = Counter("containerguard_alerts", "Runtime alerts recorded, by outcome",
                                ["outcome"], registry=registry)
        self.m_audit = Counter("containerguard_audit_events", "Kubernetes audit events from the webhook, by fate",
                               ["fate"], registry=registry)
        depth = Gauge("containerguard_audit_queue_depth", "Audit events waiting for evaluation", registry=registry)
        depth.set_function(self._queue.qsize)

    @property
    def rules(self) -> CompiledRules:
        """The compiled rules (built-in + ``CONTAINERGUARD_RULES``), loaded once."""
        if self._rules is None:
            self._rules = load_server_rules(rule_files_from_env())
        return self._rules

    def ingest(self, alerts: list[AlertIn]) -> list[tuple[dict[str, Any], bool]]:
        """Record alerts (deduplicated); forward the new ones. Returns (doc, created) per alert."""
        out: list[tuple[dict[str, Any], bool]] = []
        with self._lock, self.store.session() as session:
            for alert in alerts:
                row, created = record_alert(session, alert, self.window)
                out.append((alert_doc(row), created))
        for doc, created in out:
            self.m_alerts.labels("created" if created else "deduplicated").inc()
            if created:
                self.forwarder.send(doc)
        return out

    def submit_audit(self, body: bytes) -> dict[str, Any]:
        """Parse a webhook body and queue its events; what did not fit is dropped and counted."""
        stats = ReadStats()
        events = k8s_audit.events_from_body(body, stats)
        accepted = dropped = 0
        self._start_worker()
        for ev in events:
            try:
                self._queue.put_nowait(ev)
                accepted += 1
            except queue.Full:
                dropped += 1
        with self._lock:
            self.audit.received += len(events) + stats.skipped
            self.audit.accepted += accepted
            self.audit.dropped += dropped
            self.audit.skipped += stats.skipped
            self.audit.reasons = (self.audit.reasons + stats.reasons)[-20:]
        self.m_audit.labels("accepted").inc(accepted)
        if dropped:
            self.m_audit.labels("dropped").inc(dropped)
        if stats.skipped:
            self.m_audit.labels("skipped").inc(stats.skipped)
        return {"accepted": accepted, "dropped": dropped, "skipped": stats.skipped,
                "reasons": stats.reasons[:5], "queue_depth": self._queue.qsize()}

    def _start_worker(self) -> None:
        with self._lock:
            if self._worker is None:
                self._engine = Engine(self.rules, rule_matching="first")
                self._worker = threading.Thread(target=self._audit_loop, name="cg-audit", daemon=True)
                self._worker.start()

    def _audit_loop(self) -> None:
        assert self._engine is not None
        while True:
            batch = [self._queue.get()]
            while len(batch) < 500:  # one store transaction per burst, not per event
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                alerts = [alert_in(a, audit_context(ev)) for ev in batch for a in self._engine.process(ev)]
                if alerts:
                    self.ingest(alerts)
                with self._lock:
                    self.audit.evaluated += len(batch)
                    self.audit.alerts += len(alerts)
            except Exception:  # keep evaluating later events whatever one batch did
                log.exception("audit evaluation failed")
            finally:
                for _ in batch:
                    self._queue.task_done()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued audit event was evaluated (tests)."""
        return _joined(self._queue, timeout)

    def audit_doc(self) -> dict[str, Any]:
        """The audit webhook's counters."""
        a = self.audit
        return {"received": a.received, "accepted": a.accepted, "dropped": a.dropped, "skipped": a.skipped,
                "evaluated": a.evaluated, "alerts": a.alerts, "queue_depth": self._queue.qsize(),
                "queue_size": self._queue.maxsize, "reasons": a.reasons[-5:]}


_runtimes_lock = threading.Lock()


def runtime_for(state: Any, store: Store, metrics: ServerMetrics | None) -> AlertRuntime:
    """The application's runtime, created on first use and kept on ``state`` (``app.state``)."""
    found: AlertRuntime | None = getattr(state, "alerts_runtime", None)
    if found is not None:
        return found
    with _runtimes_lock:
        found = getattr(state, "alerts_runtime", None)
        if found is None:
            found = AlertRuntime(store, metrics)
            state.alerts_runtime = found
    return found

