"""Registry notifications to push targets: the Docker Distribution envelope and Harbor's payload.

Only manifest pushes count: blob events, pulls, deletes and mounts are ignored, and so are events
whose target is not a manifest or index (e.g. signatures stored as blobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from containerguard.sources.manifest import MANIFEST_TYPES

ENVELOPE_MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json"


@dataclass(frozen=True)
class Pushed:
    """One manifest push: repository, digest, tag ("" for a push by digest), host seen in the event."""

    repository: str
    digest: str
    tag: str = ""
    host: str = ""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def distribution_events(body: Any) -> tuple[list[Pushed], int]:
    """The manifest pushes of a Distribution envelope, and how many events were ignored."""
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise ValueError("not a notification envelope: no 'events' list")
    pushed: list[Pushed] = []
    ignored = 0
    for event in events:
        target = event.get("target") if isinstance(event, dict) else None
        if not isinstance(target, dict) or _str(event.get("action")) != "push" \
                or _str(target.get("mediaType")) not in MANIFEST_TYPES:
            ignored += 1
            continue
        repository, digest = _str(target.get("repository")), _str(target.get("digest"))
        if not repository or not digest.startswith("sha256:"):
            ignored += 1
            continue
        request = event.get("request") if isinstance(event.get("request"), dict) else {}
        host = urlsplit(_str(target.get("url"))).netloc or _str(request.get("host"))
        pushed.append(Pushed(repository, digest, _str(target.get("tag")), host.lower()))
    return pushed, ignored


def harbor_events(body: Any) -> tuple[list[Pushed], int]:
    """The pushes of a Harbor webhook payload (``type: PUSH_ARTIFACT``); other types are ignored."""
    if not isinstance(body, dict) or not isinstance(body.get("event_data"), dict):
        raise ValueError("not a Harbor webhook payload: no 'event_data'")
    data = body["event_data"]
    resources = data.get("resources") if isinstance(data.get("resources"), list) else []
    if _str(body.get("type")) != "PUSH_ARTIFACT":
        return [], max(1, len(resources))
    repo = data.get("repository") if isinstance(data.get("repository"), dict) else {}
    repository = _str(repo.get("repo_full_name")) or "/".join(
        p for p in (_str(repo.get("namespace")), _str(repo.get("name"))) if p)
    pushed: list[Pushed] = []
    ignored = 0
    for resource in resources:
        if not isinstance(resource, dict) or not _str(resource.get("digest")).startswith("sha256:") or not repository:
            ignored += 1
            continue
        url = _str(resource.get("resource_url"))
        host = url.split("/", 1)[0].lower() if "/" in url else ""
        pushed.append(Pushed(repository, _str(resource.get("digest")), _str(resource.get("tag")), host))
    return pushed, ignored
