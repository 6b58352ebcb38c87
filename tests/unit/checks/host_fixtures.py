"""Helpers for the Docker host check tests: the hand-written hardened snapshot, mutated per case."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from containerguard.models.check import HostAudit, Status
from containerguard.models.snapshot import HostSnapshot, snapshot_from_dict
from containerguard.pipeline.audit import audit

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host"
CONTAINER_ID = "c0ffee00000000000000000000000000000000000000000000000000000000aa"


def hardened_doc() -> dict[str, Any]:
    """A fresh copy of the hardened host snapshot document."""
    doc: dict[str, Any] = json.loads((FIXTURES / "hardened.json").read_text())
    return copy.deepcopy(doc)


def snapshot(mutate: Callable[[dict[str, Any]], None] | None = None) -> HostSnapshot:
    """The hardened snapshot, changed by ``mutate``."""
    doc = hardened_doc()
    if mutate is not None:
        mutate(doc)
    return snapshot_from_dict(doc)


def statuses(result: HostAudit, status: Status) -> set[str]:
    """Control ids with at least one result of ``status``."""
    return {r.id for r in result.results if r.status == status}


def run(mutate: Callable[[dict[str, Any]], None] | None = None, all_containers: bool = False) -> HostAudit:
    """Audit the mutated hardened snapshot."""
    return audit(snapshot(mutate), all_containers=all_containers)
