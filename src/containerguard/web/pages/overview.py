"""Overview: placeholder replaced by the dashboard helper."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..render import render
from ..session import WebViewer

router = APIRouter()


@router.get("/")
def overview(request: Request, viewer: WebViewer) -> Response:
    """The overview."""
    return render(request, "error.html", viewer, title="Overview", message="coming")
