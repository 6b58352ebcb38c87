"""Registry notification payloads to push targets (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from containerguard.api.webhook_parse import Pushed, distribution_events, harbor_events

DIGEST = "sha256:" + "ab" * 32
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def event(action: str = "push", media: str = MANIFEST, **target: Any) -> dict[str, Any]:
    return {"id": "1", "action": action, "target": {"mediaType": media, "digest": DIGEST, "repository": "app",
                                                      "url": f"http://127.0.0.1:5000/v2/app/manifests/{DIGEST}",
                                                      **target},
            "request": {"host": "127.0.0.1:5000"}}


@pytest.mark.parametrize(("events", "pushed", "ignored"), [
    ([event(tag="1")], [Pushed("app", DIGEST, "1", "127.0.0.1:5000")], 0),
    ([event()], [Pushed("app", DIGEST, "", "127.0.0.1:5000")], 0),
    ([event(media="application/vnd.oci.image.index.v1+json", tag="x")],
     [Pushed("app", DIGEST, "x", "127.0.0.1:5000")], 0),
    ([event(media="application/octet-stream")], [], 1),  # a blob push
    ([event(media="application/vnd.oci.image.layer.v1.tar+gzip")], [], 1),
    ([event(action="pull"), event(action="delete"), event(action="mount")], [], 3),
    ([event(digest="md5:xyz")], [], 1),
    ([event(repository="")], [], 1),
    (["junk", {"action": "push"}], [], 2),
])
def test_distribution(events: list[Any], pushed: list[Pushed], ignored: int) -> None:
    assert distribution_events({"events": events}) == (pushed, ignored)


@pytest.mark.parametrize("body", [None, [], {"events": "x"}, {"nothing": 1}])
def test_distribution_rejects_non_envelopes(body: Any) -> None:
    with pytest.raises(ValueError):
        distribution_events(body)


def harbor(kind: str = "PUSH_ARTIFACT", resources: list[Any] | None = None) -> dict[str, Any]:
    return {"type": kind, "occur_at": 1, "operator": "admin", "event_data": {
        "resources": resources if resources is not None else [
            {"digest": DIGEST, "tag": "v1", "resource_url": "harbor.local:8443/library/nginx:v1"}],
        "repository": {"name": "nginx", "namespace": "library", "repo_full_name": "library/nginx"}}}


@pytest.mark.parametrize(("body", "pushed", "ignored"), [
    (harbor(), [Pushed("library/nginx", DIGEST, "v1", "harbor.local:8443")], 0),
    (harbor("PULL_ARTIFACT"), [], 1),
    (harbor("DELETE_ARTIFACT", []), [], 1),
    (harbor(resources=[{"digest": "nope"}, "junk"]), [], 2),
])
def test_harbor(body: dict[str, Any], pushed: list[Pushed], ignored: int) -> None:
    assert harbor_events(body) == (pushed, ignored)


def test_harbor_rejects_other_payloads() -> None:
    with pytest.raises(ValueError):
        harbor_events({"events": []})
