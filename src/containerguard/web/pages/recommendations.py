"""Recommendations: every control with its unhealthy / healthy / not-applicable resource counts, the
resources of one (unhealthy first), and one resource's sub-assessments with their remediation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from containerguard.api.deps import Ctx
from containerguard.errors import ConfigError

from ..queries.images import ImageLine, VulnFilter, image_facts, list_vulnerabilities, unhealthy_first
from ..queries.recommendations import (
    HOST_PREFIX,
    K8S_PREFIX,
    KINDS,
    ClusterResult,
    HostControl,
    check_results,
    cluster_result,
    get_recommendation,
    host_controls,
    k8s_specs,
    list_recommendations,
)
from ..render import render
from ..session import Viewer, WebViewer

router = APIRouter()
PAGE = 50


def problem(request: Request, viewer: Viewer, status: int, title: str, message: str) -> Response:
    """The error page."""
    return render(request, "error.html", viewer, status=status, title=title, message=message)


def no_recommendation(request: Request, viewer: Viewer) -> Response:
    """The 404 of an unknown recommendation."""
    return problem(request, viewer, 404, "No such recommendation",
                   "No resource is assessed by that control (any more).")


@router.get("/recommendations")
def recommendations(request: Request, viewer: WebViewer, ctx: Ctx, type: str = "", state: str = "") -> Response:
    """Every recommendation with its resource counts."""
    if type and type not in KINDS:
        return problem(request, viewer, 400, "Bad filter", f"unknown type {type!r} (known: {', '.join(KINDS)})")
    with ctx.store.session() as s:
        found = list_recommendations(s, type, state == "unhealthy")
    return render(request, "recommendations.html", viewer, title="Recommendations", found=found,
                  params={"type": type, "state": state}, kind=type, state=state)


@router.get("/recommendations/{rec_id}")
def recommendation(request: Request, viewer: WebViewer, ctx: Ctx, rec_id: str, cursor: str = "") -> Response:
    """The resources one recommendation assessed, unhealthy first."""
    with ctx.store.session() as s:
        rec = get_recommendation(s, rec_id)
        if rec is None:
            return no_recommendation(request, viewer)
        images: list[ImageLine] = []
        hosts: list[HostControl] = []
        results: list[ClusterResult] = []
        next_cursor = ""
        try:
            if rec.kind == "image":
                images, next_cursor = unhealthy_first(s, cursor, PAGE)
            elif rec.kind == "host":
                hosts = host_controls(s, rec_id.removeprefix(HOST_PREFIX))
            else:
                results, next_cursor = check_results(s, rec_id.removeprefix(K8S_PREFIX), cursor, PAGE)
        except ConfigError as exc:
            return problem(request, viewer, 400, "Bad page link", str(exc))
    return render(request, "recommendation.html", viewer, title=rec.title, rec=rec, images=images, hosts=hosts,
                  results=results, next_cursor=next_cursor, cursor=cursor, params={})


@router.get("/recommendations/{rec_id}/resources/{resource_id:int}")
def resource(request: Request, viewer: WebViewer, ctx: Ctx, rec_id: str, resource_id: int,
             cursor: str = "") -> Response:
    """One resource's sub-assessments under a recommendation, with remediation: an image's
    vulnerabilities, a host's results for the control, or a Kubernetes check's result."""
    with ctx.store.session() as s:
        rec = get_recommendation(s, rec_id)
        if rec is None:
            return no_recommendation(request, viewer)
        values: dict[str, Any] = {"rec": rec, "cursor": cursor, "params": {}}
        if rec.kind == "image":
            image = image_facts(s, resource_id)
            if image is None:
                return problem(request, viewer, 404, "No such image", "The image does not exist (any more).")
            try:
                values |= {"image": image, "vulns": list_vulnerabilities(s, resource_id, VulnFilter(), cursor, PAGE)}
            except ConfigError as exc:
                return problem(request, viewer, 400, "Bad page link", str(exc))
        elif rec.kind == "host":
            found = host_controls(s, rec_id.removeprefix(HOST_PREFIX), resource_id)
            if not found:
                return problem(request, viewer, 404, "No such host", "The host has no result for this control.")
            values["host"] = found[0]
        else:
            check = rec_id.removeprefix(K8S_PREFIX)
            result = cluster_result(s, check, resource_id)
            if result is None:
                return problem(request, viewer, 404, "No such result", "The cluster has no such result (any more).")
            values |= {"result": result, "spec": k8s_specs().get(check)}
    return render(request, "recommendation_resource.html", viewer, title=rec.title, **values)
