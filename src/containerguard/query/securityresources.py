"""``securityresources``: assessments, sub-assessments and alerts, with the REST API's documents.

- ``containerguard/assessments``: each image's vulnerability assessment (``shapes.assessment``) and
  each reporting Docker host's configuration assessment (``GET /hosts/{id}/assessments`` without its
  ``items``/``next``). Clusters expose no assessment document, only per-check results.
- ``containerguard/assessments/subassessments``: image vulnerabilities (``shapes.subassessment``,
  open and closed: ``status.code`` tells), the failed CIS controls of each host's latest assessment
  (``subassessment_doc`` of ``hosts.failed``) and every cluster check result (``result_doc``).
- ``containerguard/alerts``: runtime alerts (``alert_doc``).

Ids are paths, so Resource Graph's ``extract('.*assessments/(.+?)/.*', 1, id)`` finds the assessment
key of a sub-assessment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, true

from containerguard.api.shapes import (
    RECOMMENDATION,
    RECOMMENDATION_DESCRIPTION,
    RECOMMENDATION_ID,
    RECOMMENDATION_REMEDIATION,
)
from containerguard.models.advisory import SEVERITY_LEVELS
from containerguard.pipeline.audit import RECOMMENDATION as HOST_RECOMMENDATION
from containerguard.store.tables import (
    AlertRow,
    ClusterResultRow,
    ClusterRow,
    FindingRow,
    HostRow,
    HostSnapshotRow,
    ImageRow,
)

from .catalog import (
    BranchSql,
    Source,
    Table,
    as_text,
    const,
    display_severity,
    flag,
    iso,
    json,
    long,
    nonempty,
    or_null,
    register,
    text,
)
from .dialects import Dialect
from .values import Arr, Json, Node, Val, obj, obj_of

ASSESSMENTS = "containerguard/assessments"
SUBASSESSMENTS = "containerguard/assessments/subassessments"
ALERTS = "containerguard/alerts"
HOST_ASSESSMENT_ID = "containerguard-host-configuration"
"""The assessment key of a Docker host's CIS configuration assessment."""

images = ImageRow.__table__
findings = FindingRow.__table__
hosts = HostRow.__table__
snapshots = HostSnapshotRow.__table__
clusters = ClusterRow.__table__
results = ClusterResultRow.__table__
alerts = AlertRow.__table__


def image_path(d: Dialect) -> ColumnElement[Any]:
    """``/registries/HOST/repositories/REPO/images/DIGEST``."""
    c = images.c
    return d.concat(d.text("/registries/"), c.registry_host, d.text("/repositories/"), c.repository,
                    d.text("/images/"), c.digest)


def resource_id(d: Dialect) -> ColumnElement[Any]:
    """``shapes.resource_id``: ``registry/repository@digest``."""
    c = images.c
    return d.concat(c.registry_host, d.text("/"), c.repository, d.text("@"), c.digest)


def severity_counts(d: Dialect) -> Node:
    """``severity_counts(image)``."""
    return obj_of([(level, long(images.c[level.lower()])) for level in SEVERITY_LEVELS])


def top_severity(d: Dialect) -> ColumnElement[Any]:
    """``display_severity(top_severity(image))``, NULL when the image has no open finding."""
    whens = [(images.c[level.lower()] > 0, d.text(level.capitalize())) for level in SEVERITY_LEVELS]
    return case(*whens, else_=d.null("string"))


def _image_assessment(d: Dialect) -> BranchSql:
    c = images.c
    top = top_severity(d)
    props = obj(
        id=text(as_text(c.id)),
        name=const(d, RECOMMENDATION_ID),
        displayName=const(d, RECOMMENDATION),
        status=obj(code=text(c.health), severity=text(top)),
        resourceDetails=obj(source=const(d, "Registry"), id=text(resource_id(d)), registry=text(c.registry_host),
                            repository=text(c.repository), digest=text(c.digest), tags=json(d, c.tags)),
        metadata=obj(displayName=const(d, RECOMMENDATION), description=const(d, RECOMMENDATION_DESCRIPTION),
                     remediationDescription=const(d, RECOMMENDATION_REMEDIATION),
                     assessmentType=const(d, "BuiltIn"), severity=text(func.coalesce(top, d.text("Low"))),
                     categories=Arr((const(d, "Compute"),))),
        additionalData=obj(severityCounts=severity_counts(d), lastScan=iso(d, c.last_scan),
                           assessedAt=iso(d, c.assessed_at),
                           subAssessmentsLink=text(d.concat(d.text("/api/v1/assessments/"), as_text(c.id),
                                                            d.text("/subassessments")))),
    )
    return BranchSql(base=images, id=d.concat(image_path(d), d.text(f"/assessments/{RECOMMENDATION_ID}")),
                     name=d.text(RECOMMENDATION_ID), properties=props)


def remediation_text(d: Dialect) -> ColumnElement[Any]:
    """The SQL twin of :func:`containerguard.api.shapes.remediation_text` (same sentences, per row)."""
    f = findings.c
    return case(
        (f.fixed_version != d.text(""), d.concat(d.text("Upgrade "), f.package_name, d.text(" from "),
                                                 f.installed_version, d.text(" to "), f.fixed_version,
                                                 d.text(" or later."))),
        (f.fix_state == d.text("will-not-fix"), d.concat(
            d.text("No fix will be released for "), f.package_name,
            d.text("; remove the package or accept the risk."))),
        else_=d.concat(d.text("No fixed version of "), f.package_name,
                       d.text(" is known yet; watch for an update or remove the package.")))


def _cvss(d: Dialect) -> Json:
    f = findings.c
    vector = f.cvss_vector
    version = case((func.substr(vector, 1, 5) == d.text("CVSS:"), func.substr(d.before(vector, "/"), 6)),
                   else_=d.text("2.0"))
    inner = d.json_object([(d.text("base"), f.cvss_score), (d.text("cvssVectorString"), vector)])
    return Json(case((f.cvss_score.is_(None), d.json_literal({})), else_=d.json_object([(version, inner)])))


def _finding_subassessment(d: Dialect) -> BranchSql:
    f, c = findings.c, images.c
    is_open = f.state == d.text("open")
    title = case((f.title != d.text(""), f.title), else_=func.substr(d.before(f.description, "\n"), 1, 200))
    display = case((title != d.text(""), d.concat(f.vuln_id, d.text(": "), title)),
                   else_=d.concat(f.vuln_id, d.text(" in "), f.package_name))
    severity = display_severity(d, f.severity)
    refs = d.json_column(f.references)
    package = d.json_column(f.package)
    first_ref = func.coalesce(d.json_text(refs, (0,)), d.text(""))

    def reference(url: ColumnElement[Any]) -> ColumnElement[Any]:
        member = d.json_arg(Val(url, "dynamic", "json"))
        return d.json_object([(d.text("title"), member), (d.text("link"), member)])

    def location(pair: ColumnElement[Any]) -> ColumnElement[Any]:
        return d.json_object([(d.text("path"), d.json_arg(Val(d.json_get(pair, (0,)), "dynamic", "json"))),
                              (d.text("layer"), d.json_arg(Val(d.json_get(pair, (1,)), "dynamic", "json")))])

    props = obj(
        id=text(as_text(f.id)),
        name=text(f.vuln_id),
        displayName=text(display),
        status=obj(code=text(case((is_open, d.text("Unhealthy")), else_=d.text("Healthy"))),
                   severity=text(severity),
                   cause=text(case((is_open, d.text("")), else_=d.text("Fixed"))),
                   description=text(case((is_open, d.text("The vulnerability is present in the image")),
                                         else_=d.text("The vulnerability is no longer found in the image")))),
        remediation=text(remediation_text(d)),
        impact=text(d.concat(severity, d.text(" severity vulnerability in "),
                             case((f.category != d.text(""), f.category), else_=d.text("a")), d.text(" package "),
                             f.package_name, d.text(" "), f.installed_version)),
        category=text(f.category),
        description=text(f.description),
        timeGenerated=iso(d, f.updated_at),
        resourceDetails=obj(source=const(d, "Registry"), id=text(resource_id(d)), registry=text(c.registry_host),
                            repository=text(c.repository), digest=text(c.digest)),
        additionalData=obj(
            assessedResourceType=const(d, "ContainerRegistryVulnerability"),
            type=const(d, "Vulnerability"),
            cve=Arr((obj(title=text(f.vuln_id), link=text(first_ref)),)),
            aliases=json(d, f.aliases),
            cvss=_cvss(d),
            patchable=flag(nonempty(d, f.fixed_version)),
            fixedVersion=text(f.fixed_version),
            fixStatus=text(f.fix_state),
            publishedTime=or_null(d, f.published),
            lastModifiedTime=or_null(d, f.modified),
            firstSeen=iso(d, f.first_seen),
            closedTime=iso(d, f.closed_at),
            vendorReferences=Json(d.map_array(refs, reference)),
            severitySource=text(f.severity_source),
            severities=json(d, f.severities),
            softwareDetails=obj(
                packageName=text(f.package_name), packageType=text(f.package_type), version=text(f.installed_version),
                fixedVersion=text(f.fixed_version), category=text(f.category),
                purl=text(func.coalesce(d.json_text(package, ("purl",)), d.text(""))),
                locations=Json(d.map_array(d.json_get(package, ("locations",)), location)),
                sourceName=text(func.coalesce(d.json_text(package, ("source_name",)), d.text("")))),
            evidence=json(d, f.evidence),
            imageDigest=text(c.digest),
            repositoryName=text(c.repository),
            registryHost=text(c.registry_host),
            tags=json(d, c.tags),
        ),
    )
    sub_id = d.concat(image_path(d), d.text(f"/assessments/{RECOMMENDATION_ID}/subassessments/"), as_text(f.id))
    return BranchSql(base=findings, id=sub_id, name=as_text(f.id), properties=props,
                     lazy_joins=[(images, images.c.id == f.image_id)])


def snapshot_doc(d: Dialect) -> Node:
    """``hosts.snapshot_doc`` of the joined snapshot."""
    s = snapshots.c
    return obj(id=long(s.id), collected_at=or_null(d, s.collected_at), received_at=iso(d, s.received_at),
               benchmark=text(s.benchmark), health=text(s.health), failed_scored_controls=long(s.failing))


def _latest_snapshot() -> Any:
    return hosts.join(snapshots, and_(snapshots.c.id == hosts.c.last_snapshot_id,
                                      snapshots.c.host_id == hosts.c.id))


def _host_assessment(d: Dialect) -> BranchSql:
    props = obj(recommendation=const(d, HOST_RECOMMENDATION), status=obj(code=text(snapshots.c.health)),
                assessment=snapshot_doc(d))
    path = d.concat(d.text("/hosts/"), hosts.c.name, d.text(f"/assessments/{HOST_ASSESSMENT_ID}"))
    return BranchSql(base=_latest_snapshot(), id=path, name=d.text(HOST_ASSESSMENT_ID), properties=props)


def _host_subassessment(d: Dialect) -> BranchSql:
    h, s = hosts.c, snapshots.c
    table, result = d.each(d.json_column(s.results), "cg_result")

    def field(key: str) -> Json:
        return Json(d.json_get(result, (key,)))

    resource = d.json_text(result, ("resource",))
    has_resource = and_(resource.is_not(None), resource != d.text(""))
    sub_id = d.concat(as_text(s.id), d.text(":"), func.coalesce(d.json_text(result, ("id",)), d.text("None")),
                      d.text(":"), func.coalesce(resource, d.text("")))
    props = obj(
        id=text(sub_id),
        name=field("id"),
        displayName=field("title"),
        status=obj(code=const(d, "Unhealthy"),
                   severity=text(case((d.json_text(result, ("level",)) == d.text("1"), d.text("High")),
                                      else_=d.text("Medium"))),
                   description=field("evidence")),
        remediation=field("remediation"),
        resourceDetails=obj(source=const(d, "DockerHost"),
                            id=text(case((has_resource, d.concat(h.name, d.text("/"), resource)), else_=h.name)),
                            host=text(h.name), hostId=long(h.id), resource=field("resource")),
        additionalData=obj(assessedResourceType=text(case((has_resource, d.text("DockerContainer")),
                                                          else_=d.text("DockerHost"))),
                           controlId=field("id"), section=field("section"), level=field("level"),
                           automated=field("automated"), benchmark=text(s.benchmark), assessment=long(s.id)),
    )
    path = d.concat(d.text("/hosts/"), h.name, d.text(f"/assessments/{HOST_ASSESSMENT_ID}/subassessments/"), sub_id)
    where = [d.json_text(result, ("status",)) == d.text("FAIL")]  # hosts.failed(): every failed control
    return BranchSql(base=_latest_snapshot().join(table, true()), id=path, name=sub_id, properties=props,
                     where=where)


def _cluster_subassessment(d: Dialect) -> BranchSql:
    r, c = results.c, clusters.c
    description = case((r.message != d.text(""), r.message),
                       (r.status == d.text("Healthy"), d.text("The resource passes this check")), else_=d.text(""))
    props = obj(
        id=text(as_text(r.id)), name=text(r.check_id), displayName=text(r.title),
        status=obj(code=text(r.status), severity=text(display_severity(d, r.severity)), description=text(description)),
        resourceDetails=obj(source=const(d, "Kubernetes"), id=text(d.concat(c.name, d.text("/"), r.resource)),
                            cluster=text(c.name), clusterId=long(c.id), resource=text(r.resource), kind=text(r.kind),
                            namespace=text(r.namespace), name=text(r.name)),
        additionalData=obj(assessedResourceType=text(case((r.kind != d.text(""), d.text("KubernetesWorkload")),
                                                          else_=d.text("Kubernetes"))),
                           checkId=text(r.check_id), standards=json(d, r.standards), severity=text(r.severity),
                           firstSeen=iso(d, r.first_seen), statusChangedAt=iso(d, r.changed_at)),
    )
    path = d.concat(d.text("/clusters/"), c.name, d.text("/assessments/"), r.check_id, d.text("/subassessments/"),
                    as_text(r.id))
    return BranchSql(base=results, id=path, name=as_text(r.id), properties=props,
                     lazy_joins=[(clusters, clusters.c.id == r.cluster_id)])


def _alert(d: Dialect) -> BranchSql:
    a = alerts.c
    resource = d.json_merge(
        d.json_object([(d.text("type"), a.resource_type), (d.text("key"), a.resource),
                       (d.text("name"), a.resource_name), (d.text("image"), a.image)]),
        d.json_column(a.resource_info))
    props = obj(
        id=long(a.id), rule=text(a.rule), priority=text(a.priority), severity=text(a.severity),
        tactic=or_null(d, a.tactic), techniques=json(d, a.techniques), tags=json(d, a.tags), source=text(a.source),
        resource=Json(resource), hostname=text(a.hostname), output=text(a.output),
        output_fields=json(d, a.output_fields), first_seen=iso(d, a.first_seen, zulu=False),
        last_seen=iso(d, a.last_seen, zulu=False), count=long(a.count), status=text(a.status),
    )
    return BranchSql(base=alerts, id=d.concat(d.text("/alerts/"), as_text(a.id)), name=as_text(a.id),
                     properties=props)


TABLE = register(Table(
    "securityresources",
    (Source(ASSESSMENTS, _image_assessment), Source(ASSESSMENTS, _host_assessment),
     Source(SUBASSESSMENTS, _finding_subassessment), Source(SUBASSESSMENTS, _host_subassessment),
     Source(SUBASSESSMENTS, _cluster_subassessment), Source(ALERTS, _alert)),
    "assessments, sub-assessments (vulnerabilities, failed CIS controls, cluster checks) and alerts"))
