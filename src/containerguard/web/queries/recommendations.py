"""Recommendations: one per control, with how many resources are unhealthy, healthy or not applicable.

- the image recommendation ("Vulnerabilities in container registry images should be remediated"):
  images by health, one grouped query;
- one per CIS Docker control some host passed or failed: each host's latest assessment (the host is
  Unhealthy for a control when a result of it is a sub-assessment by the store's rule
  :func:`containerguard.store.hosts.failed`, Healthy when one passed, else NotApplicable);
- one per Kubernetes check: the latest results grouped by check and status in SQL (a check has no
  "not applicable" resources: it only reports on what it targets).

Drill-down: the resources of one recommendation (unhealthy first), then one resource's
sub-assessments with remediation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from containerguard.api.shapes import (
    RECOMMENDATION,
    RECOMMENDATION_DESCRIPTION,
    RECOMMENDATION_ID,
    RECOMMENDATION_REMEDIATION,
)
from containerguard.models.k8s import K8sCheckSpec
from containerguard.registry import load_plugins, plugins
from containerguard.store.hosts import FAIL, failed
from containerguard.store.tables import ClusterResultRow, ClusterRow, HostRow, HostSnapshotRow, ImageRow

from . import keyset
from .keyset import Key

HOST_PREFIX = "cis-docker-"
K8S_PREFIX = "k8s-"
KINDS = ("image", "host", "k8s")
HEALTHY, UNHEALTHY, NOT_APPLICABLE = "Healthy", "Unhealthy", "NotApplicable"
_SEVERITY_ORDER = ("Critical", "High", "Medium", "Low")


@dataclass(frozen=True)
class Recommendation:
    """One recommendation and its resource counts (``not_applicable`` None: not tracked)."""

    id: str
    title: str
    kind: str
    """``image``, ``host`` or ``k8s``."""
    resource_type: str
    severity: str
    unhealthy: int
    healthy: int
    not_applicable: int | None
    description: str = ""
    remediation: str = ""
    reference: str = ""
    """Where the control comes from (``CIS Docker 5.5``, the check's standards)."""

    @property
    def total(self) -> int:
        """Resources assessed."""
        return self.unhealthy + self.healthy + (self.not_applicable or 0)


@dataclass(frozen=True)
class HostControl:
    """One host's verdict on one CIS control, with the results behind it (one per resource)."""

    host_id: int
    host: str
    status: str
    results: list[dict[str, Any]]
    assessed: datetime | None

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The failed results: the sub-assessments."""
        return failed(self.results)


@dataclass(frozen=True)
class ClusterResult:
    """One Kubernetes check's verdict on one resource."""

    id: int
    cluster_id: int
    cluster: str
    check_id: str
    title: str
    severity: str
    standards: tuple[str, ...]
    status: str
    resource: str
    kind: str
    namespace: str
    name: str
    message: str
    first_seen: datetime | None
    changed_at: datetime | None


def host_severity(level: Any) -> str:
    """CIS profile level 1 -> High, else Medium (as the host sub-assessments say)."""
    return "High" if level == 1 else "Medium"


@cache
def k8s_specs() -> dict[str, K8sCheckSpec]:
    """The registered Kubernetes checks' specs by id."""
    load_plugins("containerguard.checks.k8s")
    return {name: cls.spec for name, cls in plugins("k8s-check").items() if hasattr(cls, "spec")}


def _image_recommendation(session: Session) -> Recommendation:
    counts = {str(h): int(n) for h, n in session.execute(select(ImageRow.health, func.count())
                                                          .group_by(ImageRow.health)).all()}
    return Recommendation(RECOMMENDATION_ID, RECOMMENDATION, "image", "Container registry images", "High",
                          counts.get(UNHEALTHY, 0), counts.get(HEALTHY, 0), counts.get(NOT_APPLICABLE, 0),
                          RECOMMENDATION_DESCRIPTION, RECOMMENDATION_REMEDIATION, "Image vulnerability assessment")


def latest_host_results(session: Session) -> list[tuple[int, str, datetime | None, list[dict[str, Any]]]]:
    """(host id, name, assessed at, results) of each host's latest assessment, by host name."""
    rows = session.execute(select(HostRow.id, HostRow.name, HostSnapshotRow.received_at, HostSnapshotRow.results)
                           .join(HostSnapshotRow, HostSnapshotRow.id == HostRow.last_snapshot_id)
                           .order_by(HostRow.name)).all()
    return [(int(i), str(n), at, [r for r in results or [] if isinstance(r, dict)]) for i, n, at, results in rows]


def control_status(results: Iterable[dict[str, Any]]) -> str:
    """A host's verdict on a control from its results on every resource."""
    results = list(results)
    if failed(results):
        return UNHEALTHY
    if any(r.get("status") == "PASS" for r in results):
        return HEALTHY
    return NOT_APPLICABLE


def _host_recommendations(session: Session) -> list[Recommendation]:
    per_control: dict[str, dict[int, list[dict[str, Any]]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for host_id, _, _, results in latest_host_results(session):
        for r in results:
            control = str(r.get("id"))
            per_control.setdefault(control, {}).setdefault(host_id, []).append(r)
            meta.setdefault(control, r)
    out = []
    for control, hosts in per_control.items():
        if not any(r.get("status") in (FAIL, "PASS") for rs in hosts.values() for r in rs):
            continue  # only undecided (WARN, INFO) or not applicable anywhere: advice, not a recommendation
        statuses = [control_status(rs) for rs in hosts.values()]
        first = meta[control]
        out.append(Recommendation(f"{HOST_PREFIX}{control}", str(first.get("title") or control), "host",
                                  "Docker hosts", host_severity(first.get("level")), statuses.count(UNHEALTHY),
                                  statuses.count(HEALTHY), statuses.count(NOT_APPLICABLE), "",
                                  str(first.get("remediation") or ""), f"CIS Docker Benchmark {control}"))
    return out


def _k8s_recommendations(session: Session, check_id: str = "") -> list[Recommendation]:
    query = select(ClusterResultRow.check_id, ClusterResultRow.status, func.count(),
                   func.max(ClusterResultRow.title), func.max(ClusterResultRow.severity))
    if check_id:
        query = query.where(ClusterResultRow.check_id == check_id)
    grouped: dict[str, dict[str, Any]] = {}
    for check, status, count, title, severity in session.execute(
            query.group_by(ClusterResultRow.check_id, ClusterResultRow.status)).all():
        entry = grouped.setdefault(str(check), {"title": title, "severity": severity, UNHEALTHY: 0, HEALTHY: 0})
        entry[str(status)] = entry.get(str(status), 0) + int(count)
    specs = k8s_specs()
    out = []
    for check, entry in grouped.items():
        spec = specs.get(check)
        out.append(Recommendation(
            f"{K8S_PREFIX}{check}", str(entry["title"] or check), "k8s", "Kubernetes resources",
            str(entry["severity"] or "").capitalize() or "Medium", entry[UNHEALTHY], entry[HEALTHY], None,
            spec.description if spec else "", spec.remediation if spec else "",
            ", ".join(f"{c.standard} {c.control}" for c in spec.controls) if spec else check))
    return out


def _sort_key(r: Recommendation) -> tuple[int, int, int, str]:
    rank = _SEVERITY_ORDER.index(r.severity) if r.severity in _SEVERITY_ORDER else len(_SEVERITY_ORDER)
    return (0 if r.unhealthy else 1, rank, -r.unhealthy, r.title.lower())


def list_recommendations(session: Session, kind: str = "", unhealthy_only: bool = False) -> list[Recommendation]:
    """Every recommendation: those with unhealthy resources first, most severe first."""
    found: list[Recommendation] = []
    if kind in ("", "image"):
        found.append(_image_recommendation(session))
    if kind in ("", "host"):
        found += _host_recommendations(session)
    if kind in ("", "k8s"):
        found += _k8s_recommendations(session)
    if unhealthy_only:
        found = [r for r in found if r.unhealthy]
    return sorted(found, key=_sort_key)


def get_recommendation(session: Session, rec_id: str) -> Recommendation | None:
    """One recommendation by id, or None."""
    if rec_id == RECOMMENDATION_ID:
        return _image_recommendation(session)
    if rec_id.startswith(HOST_PREFIX):
        return next((r for r in _host_recommendations(session) if r.id == rec_id), None)
    if rec_id.startswith(K8S_PREFIX):
        found = _k8s_recommendations(session, rec_id.removeprefix(K8S_PREFIX))
        return found[0] if found else None
    return None


def host_controls(session: Session, control: str, host_id: int | None = None) -> list[HostControl]:
    """Each host's verdict on ``control`` (one host with ``host_id``), unhealthy first."""
    out = []
    for hid, name, assessed, results in latest_host_results(session):
        if host_id is not None and hid != host_id:
            continue
        mine = [r for r in results if str(r.get("id")) == control]
        if mine:
            out.append(HostControl(hid, name, control_status(mine), mine, assessed))
    order = (UNHEALTHY, HEALTHY, NOT_APPLICABLE)
    return sorted(out, key=lambda h: (order.index(h.status), h.host))


_RESULT_COLUMNS = (ClusterResultRow.id, ClusterResultRow.cluster_id, ClusterRow.name, ClusterResultRow.check_id,
                   ClusterResultRow.title, ClusterResultRow.severity, ClusterResultRow.standards,
                   ClusterResultRow.status, ClusterResultRow.resource, ClusterResultRow.kind,
                   ClusterResultRow.namespace, ClusterResultRow.name.label("object_name"), ClusterResultRow.message,
                   ClusterResultRow.first_seen, ClusterResultRow.changed_at)


def _result(r: Any) -> ClusterResult:
    return ClusterResult(r.id, r.cluster_id, r.name, r.check_id, r.title, r.severity, tuple(r.standards or ()),
                         r.status, r.resource, r.kind, r.namespace, r.object_name, r.message, r.first_seen,
                         r.changed_at)


def check_results(session: Session, check_id: str, cursor: str = "",
                  limit: int = 50) -> tuple[list[ClusterResult], str]:
    """A page of one check's results on every cluster, unhealthy first (paged in SQL)."""
    rank = case({UNHEALTHY: 0}, value=ClusterResultRow.status, else_=1)
    query = select(*_RESULT_COLUMNS).join(ClusterRow, ClusterRow.id == ClusterResultRow.cluster_id) \
        .where(ClusterResultRow.check_id == check_id)
    rows, next_cursor = keyset.fetch(session, query, [Key(rank), Key(ClusterResultRow.id)], cursor, limit)
    return [_result(r) for r in rows], next_cursor


def cluster_result(session: Session, check_id: str, result_id: int) -> ClusterResult | None:
    """One result of ``check_id`` by id, or None."""
    row = session.execute(select(*_RESULT_COLUMNS).join(ClusterRow, ClusterRow.id == ClusterResultRow.cluster_id)
                          .where(ClusterResultRow.id == result_id, ClusterResultRow.check_id == check_id)).first()
    return _result(row) if row is not None else None
