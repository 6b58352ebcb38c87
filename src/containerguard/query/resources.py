"""``resources``: images, Docker hosts, their containers, Kubernetes clusters and their workloads.

``properties`` is the REST document of the object: ``image_detail`` (``GET /images/{digest}``),
``host_doc`` (an item of ``GET /hosts``), ``cluster_doc`` and ``workload_doc``. Two parts of those
documents are computed in Python by the API from image references (``parse_ref``) and cannot be
compiled to SQL faithfully, so they are left out rather than guessed: a workload container's
``assessments`` list, and a host container's ``image_health``/``image_assessments``. Containers are
the entries of each host's latest inventory (``inventory.containers``, expanded with ``json_each`` /
``jsonb_array_elements``) with the host they run on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, true

from containerguard.pipeline.audit import RECOMMENDATION as HOST_RECOMMENDATION
from containerguard.store.tables import ClusterRow, ClusterWorkloadRow, HostRow, ImageRow

from .catalog import (
    BranchSql,
    Source,
    Table,
    as_text,
    const,
    flag,
    iso,
    json,
    json_at,
    long,
    nonempty,
    nonzero_or_null,
    or_null,
    register,
    text,
)
from .dialects import Dialect
from .securityresources import image_path, resource_id, severity_counts
from .values import Json, obj

IMAGES = "containerguard/images"
HOSTS = "containerguard/hosts"
CONTAINERS = "containerguard/containers"
CLUSTERS = "containerguard/clusters"
WORKLOADS = "containerguard/workloads"

images = ImageRow.__table__
hosts = HostRow.__table__
clusters = ClusterRow.__table__
workloads = ClusterWorkloadRow.__table__


def _image(d: Dialect) -> BranchSql:
    c = images.c
    link = d.concat(d.text("/api/v1/images/"), c.digest)
    props = obj(
        id=long(c.id), registry=text(c.registry_host), repository=text(c.repository), digest=text(c.digest),
        index_digest=or_null(d, c.index_digest), tags=json(d, c.tags), platform=text(c.platform),
        health=text(c.health), severity_counts=severity_counts(d), last_scan=iso(d, c.last_scan),
        distro=text(c.distro), packages=long(c.packages), notes=json(d, c.notes),
        last_scan_id=or_null(d, c.last_scan_id), assessed_at=iso(d, c.assessed_at), created_at=iso(d, c.created_at),
        links=obj(vulnerabilities=text(d.concat(link, d.text("/vulnerabilities?repository="), c.repository)),
                  sbom=text(d.concat(link, d.text("/sbom?repository="), c.repository,
                                     d.text("&format=cyclonedx")))),
    )
    return BranchSql(base=images, id=image_path(d), name=resource_id(d), properties=props)


def _host(d: Dialect) -> BranchSql:
    c = hosts.c
    base = d.concat(d.text("/api/v1/hosts/"), as_text(c.id))

    def inv(key: str) -> Json:
        return json_at(d, c.inventory, key)

    props = obj(
        id=long(c.id), name=text(c.name), hostname=or_null(d, c.hostname), os=inv("os"), kernel=inv("kernel"),
        docker_version=inv("docker_version"), api_version=inv("api_version"), storage_driver=inv("storage_driver"),
        images=inv("images"), containers=obj(running=inv("containers_running"), stopped=inv("containers_stopped")),
        recommendation=const(d, HOST_RECOMMENDATION), health=text(c.health), last_assessment=long(c.last_snapshot_id),
        last_seen=iso(d, c.last_seen), created_at=iso(d, c.created_at),
        links=obj(assessments=text(d.concat(base, d.text("/assessments"))),
                  snapshots=text(d.concat(base, d.text("/snapshots"))),
                  changes=text(d.concat(base, d.text("/changes")))),
    )
    return BranchSql(base=hosts, id=d.concat(d.text("/hosts/"), c.name), name=c.name, properties=props)


def _container(d: Dialect) -> BranchSql:
    c = hosts.c
    table, item = d.each(d.json_get(d.json_column(c.inventory), ("containers",)), "cg_container")

    def field(key: str) -> Json:
        return Json(d.json_get(item, (key,)))

    name = func.coalesce(d.json_text(item, ("name",)), d.text(""))
    props = obj(
        name=field("name"), image=field("image"), image_id=field("image_id"), state=field("state"),
        repo_digests=Json(func.coalesce(d.json_get(item, ("repo_digests",)), d.json_literal([]))),
        repo_tags=Json(func.coalesce(d.json_get(item, ("repo_tags",)), d.json_literal([]))),
        host=text(c.name), hostId=long(c.id),
    )
    return BranchSql(base=hosts.join(table, true()), id=d.concat(d.text("/hosts/"), c.name, d.text("/containers/"),
                                                                 name),
                     name=name, properties=props)


def _cluster(d: Dialect) -> BranchSql:
    c = clusters.c
    base = d.concat(d.text("/api/v1/clusters/"), as_text(c.id))
    props = obj(
        id=long(c.id), name=text(c.name), server=text(c.server), context=or_null(d, c.context),
        credentials=text(case((c.kubeconfig != d.text(""), d.text("kubeconfig")), else_=d.text("token"))),
        has_ca=flag(nonempty(d, c.ca_cert)), interval=nonzero_or_null(d, c.interval), health=text(c.health),
        last_assessed=iso(d, c.last_assessed), next_assessment=iso(d, c.due_at), last_error=or_null(d, c.last_error),
        notes=json(d, c.notes), created_at=iso(d, c.created_at),
        links=obj(assessments=text(d.concat(base, d.text("/assessments"))),
                  workloads=text(d.concat(base, d.text("/workloads"))),
                  events=text(d.concat(base, d.text("/events")))),
    )
    return BranchSql(base=clusters, id=d.concat(d.text("/clusters/"), c.name), name=c.name, properties=props)


def workload_ref(d: Dialect) -> ColumnElement[Any]:
    """``Kind/namespace/name`` (``Kind/name`` without a namespace)."""
    w = workloads.c
    return case((w.namespace != d.text(""), d.concat(w.kind, d.text("/"), w.namespace, d.text("/"), w.name)),
                else_=d.concat(w.kind, d.text("/"), w.name))


def _workload(d: Dialect) -> BranchSql:
    w = workloads.c
    ref = workload_ref(d)
    props = obj(
        id=long(w.id), kind=text(w.kind), namespace=text(w.namespace), name=text(w.name), uid=or_null(d, w.uid),
        resource=text(ref), health=text(w.health), containers=json(d, w.containers), updated_at=iso(d, w.updated_at),
        links=obj(assessments=text(d.concat(d.text("/api/v1/clusters/"), as_text(w.cluster_id),
                                            d.text("/assessments?resource="), ref))),
    )
    path = d.concat(d.text("/clusters/"), clusters.c.name, d.text("/workloads/"), ref)
    return BranchSql(base=workloads, id=path, name=ref, properties=props,
                     lazy_joins=[(clusters, clusters.c.id == w.cluster_id)])


TABLE = register(Table(
    "resources",
    (Source(IMAGES, _image), Source(HOSTS, _host), Source(CONTAINERS, _container), Source(CLUSTERS, _cluster),
     Source(WORKLOADS, _workload)),
    "images, Docker hosts, containers, Kubernetes clusters and workloads"))
