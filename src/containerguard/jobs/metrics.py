"""Prometheus metrics of the server: scans by status and queue depth (read from the store when
scraped, so they survive restarts and count every worker), and scan durations (observed here)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from containerguard.store.db import Store
from containerguard.store.scans import QUEUED, counts_by_status

DURATION_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)


class _StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.store.session() as session:
            counts = counts_by_status(session)
        scans = GaugeMetricFamily("containerguard_scans", "Scans in the store, by status", labels=["status"])
        for status, count in counts.items():
            scans.add_metric([status], count)
        yield scans
        yield GaugeMetricFamily("containerguard_queue_depth", "Scans queued (waiting or backing off)",
                                value=counts[QUEUED])


class ServerMetrics:
    """The metrics of one server (its own registry: several apps in one process never collide)."""

    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        self.scan_duration = Histogram("containerguard_scan_duration_seconds", "Duration of finished scans",
                                       buckets=DURATION_BUCKETS, registry=self.registry)
        self.scan_outcomes = Counter("containerguard_scan_attempts", "Scan attempts by outcome",
                                     ["outcome"], registry=self.registry)
        self.reassessments = Counter("containerguard_reassessments", "Re-assessments of every stored image",
                                     registry=self.registry)
        if store is not None:
            self.registry.register(_StoreCollector(store))
