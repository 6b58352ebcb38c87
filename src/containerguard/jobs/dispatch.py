"""The one interface every job goes through, so a distributed queue can replace the in-process one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

SCAN = "scan"
REASSESS = "reassess"
CRAWL = "crawl"
STATS = "stats"


@dataclass(frozen=True)
class Job:
    """A unit of background work.

    ``scan``: ``target`` is a scan id, the scan row already queued (the store is the durable queue);
    ``reassess``: re-match every stored SBOM (``target`` unused);
    ``crawl``: crawl the catalog of registry ``target`` (a registry id; "" for every registry).
    """

    kind: str
    target: str = ""


class Dispatcher(ABC):
    """Runs jobs somewhere."""

    @abstractmethod
    def submit(self, job: Job) -> None:
        """Hand a job over; returns at once."""

    @abstractmethod
    def start(self) -> None:
        """Start the workers (resuming what a previous run left queued or running)."""

    @abstractmethod
    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers, waiting up to ``timeout`` seconds for running jobs."""
