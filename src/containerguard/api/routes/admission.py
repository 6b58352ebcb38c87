"""A ValidatingAdmissionWebhook: ``POST /k8s/admission/validate`` takes an AdmissionReview v1 and
answers with the verdict of the same checks ``scan k8s --standard S`` runs on the object.

- ``CONTAINERGUARD_ADMISSION_STANDARD``: ``pss-baseline`` (default), ``pss-restricted``, ``cis-k8s``
  or ``defender``.
- ``CONTAINERGUARD_ADMISSION_MODE``: ``deny`` (default: a failing object is rejected) or ``warn``
  (admitted, each failure returned as a warning kubectl prints).
- Pods and workload kinds (their pod template) are assessed on CREATE and UPDATE; DELETE, CONNECT,
  other kinds and pod subresources other than ``ephemeralcontainers`` are allowed untouched.

Authentication: kube-apiserver calls webhooks over TLS and, unless configured otherwise, presents no
credentials, so this path alone accepts unauthenticated requests. A real deployment serves it behind
TLS (a proxy or ingress whose certificate the ``caBundle`` of the webhook configuration trusts) and
should set ``CONTAINERGUARD_ADMISSION_TOKEN``: then a request must carry ``Authorization: Bearer
TOKEN``, which kube-apiserver sends when its ``AdmissionConfiguration`` gives the webhook a
kubeconfig with that token.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from containerguard.checks.k8s.allowlists import config_from_env
from containerguard.checks.k8s.base import POD_SPEC_KINDS
from containerguard.errors import ConfigError
from containerguard.models.k8s import FAIL, K8sCollected, K8sObject
from containerguard.pipeline.k8s_audit import STANDARDS, audit, k8s_checks

from ..deps import bearer

router = APIRouter(prefix="/k8s/admission", tags=["admission"])
API_VERSION = "admission.k8s.io/v1"
MODES = ("deny", "warn")
MAX_WARNING = 256
"""kube-apiserver may truncate longer warnings; keep each one within it."""
MAX_WARNINGS = 20
ASSESSED_OPERATIONS = frozenset({"CREATE", "UPDATE"})
ASSESSED_SUBRESOURCES = frozenset({"", "ephemeralcontainers"})


class BadReview(ValueError):
    """The body is not an AdmissionReview v1 request."""


def admission_settings() -> tuple[str, str]:
    """(standard, mode) from the environment; :class:`ConfigError` when either is unknown."""
    standard = os.environ.get("CONTAINERGUARD_ADMISSION_STANDARD", "").strip() or "pss-baseline"
    mode = os.environ.get("CONTAINERGUARD_ADMISSION_MODE", "").strip().lower() or "deny"
    if standard not in STANDARDS:
        raise ConfigError(f"CONTAINERGUARD_ADMISSION_STANDARD {standard!r} is not one of {', '.join(STANDARDS)}")
    if mode not in MODES:
        raise ConfigError(f"CONTAINERGUARD_ADMISSION_MODE {mode!r} is not one of {', '.join(MODES)}")
    return standard, mode


def parse_review(body: bytes) -> Mapping[str, Any]:
    """The ``request`` of an AdmissionReview v1, or :class:`BadReview`."""
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadReview(f"body is not JSON: {exc}") from exc
    if not isinstance(review, dict) or review.get("kind") != "AdmissionReview":
        raise BadReview("body is not an AdmissionReview")
    if review.get("apiVersion") != API_VERSION:
        raise BadReview(f"apiVersion must be {API_VERSION}, got {review.get('apiVersion')!r}")
    request = review.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("uid"), str) or not request["uid"]:
        raise BadReview("AdmissionReview has no request with a uid")
    kind = request.get("kind")
    if not isinstance(kind, dict) or not isinstance(kind.get("kind"), str):
        raise BadReview("request.kind must be a GroupVersionKind")
    return request


def review_object(request: Mapping[str, Any]) -> K8sObject | None:
    """The object to assess, or None when the request is allowed without assessment."""
    operation = str(request.get("operation") or "")
    kind = request["kind"]
    if operation not in ASSESSED_OPERATIONS or kind["kind"] not in POD_SPEC_KINDS:
        return None
    if str(request.get("subResource") or "") not in ASSESSED_SUBRESOURCES:
        return None
    raw = request.get("object")
    if not isinstance(raw, dict):
        raise BadReview(f"{operation} request has no object")
    group, version = str(kind.get("group") or ""), str(kind.get("version") or "v1")
    api_version = f"{group}/{version}" if group else version
    found = raw.get("metadata")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    namespace = str(request.get("namespace") or meta.get("namespace") or "")
    name = str(request.get("name") or meta.get("name") or meta.get("generateName") or "(unnamed)")
    # The object as scan k8s would read it from a manifest: its own kind and apiVersion.
    full = {**raw, "kind": kind["kind"], "apiVersion": api_version}
    return K8sObject(kind=kind["kind"], api_version=api_version, namespace=namespace, name=name, raw=full,
                     source="admission")


def verdict(obj: K8sObject, standard: str) -> list[str]:
    """The failures of ``obj`` under ``standard`` (``check id: message``), exactly as ``scan k8s``."""
    result = audit(K8sCollected((obj,)), config_from_env(), standard, checks=_checks())
    return [f"{r.check_id} {r.title}: {r.message}" for r in result.results if r.status == FAIL]


_CHECKS: list[Any] = []


def _checks() -> list[Any]:
    # Check instances are stateless: build them once per process, not per admission request.
    if not _CHECKS:
        _CHECKS.extend(k8s_checks())
    return _CHECKS


def _response(uid: str, allowed: bool, message: str = "", warnings: list[str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if not allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": message}
    elif message:
        response["status"] = {"code": 200, "message": message}
    if warnings:
        response["warnings"] = [w if len(w) <= MAX_WARNING else w[:MAX_WARNING - 3] + "..."
                                for w in warnings[:MAX_WARNINGS]]
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


def _authorized(request: Request) -> bool:
    expected = os.environ.get("CONTAINERGUARD_ADMISSION_TOKEN", "").strip()
    return not expected or hmac.compare_digest(bearer(request).encode(), expected.encode())


@router.post("/validate")
async def validate(request: Request) -> JSONResponse:
    """Admit or deny a Pod or workload by the configured standard."""
    if not _authorized(request):
        return JSONResponse({"detail": "invalid or missing bearer token"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="containerguard-admission"'})
    try:
        standard, mode = admission_settings()
    except ConfigError as exc:  # the server's configuration, not the caller's request, is wrong
        return JSONResponse({"detail": str(exc)}, status_code=500)
    try:
        review = parse_review(await request.body())
        obj = review_object(review)
    except BadReview as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    uid = str(review["uid"])
    if obj is None:
        return JSONResponse(_response(uid, True))
    failures = verdict(obj, standard)
    if not failures:
        return JSONResponse(_response(uid, True))
    summary = f"{obj.ref} violates {standard}: " + "; ".join(failures)
    if mode == "warn":
        return JSONResponse(_response(uid, True, warnings=[f"{standard}: {f}" for f in failures]))
    return JSONResponse(_response(uid, False, summary, warnings=[f"{standard}: {f}" for f in failures]))
