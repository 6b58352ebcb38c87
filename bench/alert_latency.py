"""Server part of ``make bench`` for runtime alerts: event-to-alert latency through the real server.

One real ``containerguard server`` (embedded SQLite unless ``CG_BENCH_DATABASE_URL`` is set) gets Kubernetes
audit events on ``POST /api/v1/k8s/audit`` the way kube-apiserver's batching webhook backend sends them:
an ``audit.k8s.io/v1`` EventList every 1/HZ seconds, at RATE events/s for SECONDS seconds. Most events are
the reads that dominate a real audit log; one in EVERY is a copy of a fixture event that raises a built-in
alert (exec into a pod, privileged pod, cluster-admin binding …), each naming its own object, so no two
alerts deduplicate and each alert maps back to the POST that carried it.

The server forwards every new alert to ``CONTAINERGUARD_ALERT_WEBHOOK``, here a receiver in this process
that timestamps arrivals. An alert is forwarded after the transaction recording it commits, so
arrival - POST sent is an upper bound of "visible through the API" (it also counts the forwarding POST).
Reported: p50/p95/p99 against the 100 ms target, the achieved rate, alerts missing, and the webhook's
queue drops (must be 0) from ``GET /api/v1/k8s/audit/stats``.

Stand-alone: ``python bench/alert_latency.py`` (env: CG_BENCH_ALERT_RATE=1000, CG_BENCH_ALERT_SECONDS=30,
CG_BENCH_ALERT_HZ=10, CG_BENCH_ALERT_EVERY=50, CG_BENCH_ALERT_RULES=extra rules files for the server).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
for helper in (ROOT / "tests" / "integration", Path(__file__).resolve().parent):
    if str(helper) not in sys.path:
        sys.path.insert(0, str(helper))

import rules as rules_bench  # noqa: E402
from cg_server import ServerProcess, cli, server_env, wait_for  # noqa: E402

from containerguard.jobs.alerts import audit_context, load_server_rules  # noqa: E402
from containerguard.rules.engine import Engine  # noqa: E402
from containerguard.sources.events import k8s_audit  # noqa: E402
from containerguard.sources.events.base import ReadStats  # noqa: E402
from containerguard.store.alerts import resource_of  # noqa: E402

RATE = int(os.environ.get("CG_BENCH_ALERT_RATE", "1000"))
SECONDS = float(os.environ.get("CG_BENCH_ALERT_SECONDS", "30"))
HZ = int(os.environ.get("CG_BENCH_ALERT_HZ", "10"))
EVERY = int(os.environ.get("CG_BENCH_ALERT_EVERY", "50"))
EXTRA_RULES = os.environ.get("CG_BENCH_ALERT_RULES", "")  # the server's CONTAINERGUARD_RULES
TARGET_P99 = 0.100
SETTLE = 10.0  # seconds to wait for the last alerts after the last POST
FIXTURE = ROOT / "tests" / "fixtures" / "rules" / "events" / "audit.jsonl"


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (inclusive method: defined for small samples)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def now_rfc3339() -> str:
    """The audit log's timestamp format, for the current time."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def with_marker(event: dict[str, Any], marker: str) -> dict[str, Any]:
    """A copy of an audit event about an object named ``marker``, stamped now."""
    ev: dict[str, Any] = json.loads(json.dumps(event))
    ref = ev.setdefault("objectRef", {})
    old = ref.get("name")
    ref["name"] = marker
    if isinstance(ev.get("requestObject"), dict):
        ev["requestObject"].setdefault("metadata", {})["name"] = marker
    uri = ev.get("requestURI", "")
    if old and f"/{old}" in uri:
        uri = uri.replace(f"/{old}/", f"/{marker}/").replace(f"/{old}?", f"/{marker}?")
        ev["requestURI"] = uri[:-len(old)] + marker if uri.endswith(f"/{old}") else uri
    ev["auditID"] = marker
    ev["requestReceivedTimestamp"] = ev["stageTimestamp"] = now_rfc3339()
    return ev


def alerting_templates() -> list[tuple[dict[str, Any], str]]:
    """The fixture events that raise an alert on their own object with the server's rules, and that rule
    (checked here, in-process, so the bench follows the rule pack instead of hard-coding which events fire)."""
    extra = [Path(p) for p in EXTRA_RULES.split(",") if p.strip()]
    engine = Engine(load_server_rules(extra), rule_matching="first")
    out = []
    for line in FIXTURE.read_bytes().splitlines():
        template = json.loads(line)
        if not isinstance(template.get("objectRef"), dict) or not template["objectRef"].get("resource"):
            continue
        probe = with_marker(template, "cglat-probe")
        for ev in k8s_audit.read_events([json.dumps(probe).encode()], ReadStats()):
            for alert in engine.process(ev):
                if resource_of({**audit_context(ev), **alert.output_fields}).name == "cglat-probe":
                    out.append((template, alert.rule))
    return out


class Receiver:
    """The alert webhook: records when each alert (by its resource name) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.posts = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()
                try:
                    name = json.loads(body)["alert"]["resource"]["name"]
                except (ValueError, KeyError, TypeError):
                    name = ""
                with receiver.lock:
                    receiver.posts += 1
                    receiver.arrived.setdefault(name, at)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, name="alert-receiver", daemon=True).start()

    def count(self, names: set[str]) -> int:
        with self.lock:
            return sum(1 for n in names if n in self.arrived)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def event_list(items: list[bytes]) -> bytes:
    """An EventList body as the API server's webhook backend posts it."""
    return b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[' + b",".join(items) + b"]}"


def run(server: ServerProcess, agent_token: str, receiver: Receiver, templates: list[dict[str, Any]],
        rate: int, seconds: float) -> dict[str, Any]:
    """Send the load; per marker, the send time of the POST that carried it."""
    background = rules_bench.background_reads()
    per_batch = max(1, rate // HZ)
    batches = int(seconds * HZ)
    sent: dict[str, float] = {}
    post_times: list[float] = []
    accepted = dropped = 0
    behind = 0
    seq = 0
    headers = {"Authorization": f"Bearer {agent_token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        # warm-up: the server compiles its rules on the first audit POST; wait for that alert to come back
        warm = with_marker(templates[0], "cglat-warmup")
        client.post("/api/v1/k8s/audit", content=event_list([*background, json.dumps(warm).encode()]))
        wait_for("the warm-up alert", lambda: receiver.count({"cglat-warmup"}), timeout=60, interval=0.05)
        start = time.monotonic()
        for b in range(batches):
            due = start + b / HZ
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                behind += 1
            items: list[bytes] = []
            markers: list[str] = []
            for k in range(per_batch):
                if seq % EVERY == EVERY // 2:
                    marker = f"cglat-{seq:07d}"
                    template = templates[(seq // EVERY) % len(templates)]
                    items.append(json.dumps(with_marker(template, marker), separators=(",", ":")).encode())
                    markers.append(marker)
                else:
                    items.append(background[(seq + k) % len(background)])
                seq += 1
            body = event_list(items)
            t0 = time.monotonic()
            response = client.post("/api/v1/k8s/audit", content=body)
            post_times.append(time.monotonic() - t0)
            if response.status_code != 200:
                raise SystemExit(f"bench: audit POST answered {response.status_code}: {response.text[:300]}")
            doc = response.json()
            accepted += doc["accepted"]
            dropped += doc["dropped"]
            for m in markers:
                sent[m] = t0
        elapsed = time.monotonic() - start
    deadline = time.monotonic() + SETTLE
    names = set(sent)
    while time.monotonic() < deadline and receiver.count(names) < len(names):
        time.sleep(0.05)
    return {"sent": sent, "events": seq, "elapsed": elapsed, "accepted": accepted, "dropped": dropped,
            "behind": behind, "post_times": post_times}


def alert_section(tmp: Path) -> bool:
    """Run the measurement against a fresh server and print it; False when a target is missed."""
    print(f"\nruntime alerts through the server (audit webhook at {RATE:,} events/s in EventLists of "
          f"{max(1, RATE // HZ)}, {SECONDS:.0f} s, 1 in {EVERY} raises an alert)", flush=True)
    found = alerting_templates()
    if not found:
        raise SystemExit("bench: no fixture audit event raises an alert with the server's rules")
    templates = [t for t, _ in found]
    print(f"  alert-raising events, in turn: {'; '.join(rule for _, rule in found)}")
    receiver = Receiver()
    home = tmp / "alert-home"
    # the server loads exactly the rules alerting_templates() checked (not the caller's CONTAINERGUARD_RULES)
    extra = {"CONTAINERGUARD_ALERT_WEBHOOK": receiver.url, "CONTAINERGUARD_RULES": EXTRA_RULES}
    env = server_env(home, os.environ.get("CG_BENCH_DATABASE_URL", ""), **extra)
    admin = cli(env, "token", "create", "--role", "admin").strip()
    agent = cli(env, "token", "create", "--role", "agent").strip()
    server = ServerProcess(env, _free_port(), tmp / "alert-server.log", admin).start()
    try:
        result = run(server, agent, receiver, templates, RATE, SECONDS)
        stats = server.get("/api/v1/k8s/audit/stats")
    except BaseException:
        print(server.log.read_text()[-4000:])
        raise
    finally:
        server.stop()
        receiver.close()
    sent: dict[str, float] = result["sent"]
    latencies = sorted(receiver.arrived[m] - t for m, t in sent.items() if m in receiver.arrived)
    missing = len(sent) - len(latencies)
    rate = result["events"] / result["elapsed"]
    print(f"  sent {result['events']:,} events in {result['elapsed']:.1f} s ({rate:,.0f} events/s; "
          f"{result['behind']} of {len(result['post_times'])} POSTs started late), "
          f"POST answered in median {statistics.median(result['post_times']) * 1000:.1f} ms")
    print(f"  server: received {stats['received']:,}, accepted {stats['accepted']:,}, "
          f"evaluated {stats['evaluated']:,}, dropped {stats['dropped']} (queue full), "
          f"skipped {stats['skipped']}, alerts {stats['alerts']}")
    if not latencies:
        print("  NO alert arrived")
        return False
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(f"  event-to-alert over {len(latencies)} alerts: p50 {p50 * 1000:.1f} ms  p95 {p95 * 1000:.1f} ms  "
          f"p99 {p99 * 1000:.1f} ms  max {latencies[-1] * 1000:.1f} ms   (missing: {missing})")
    ok = p99 < TARGET_P99 and missing == 0 and stats["dropped"] == 0 and result["dropped"] == 0
    print(f"  p99 < {TARGET_P99 * 1000:.0f} ms, no alert missing, no event dropped: {'yes' if ok else 'NO'}")
    return ok


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cg-bench-alerts-") as tmp:
        return 0 if alert_section(Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
