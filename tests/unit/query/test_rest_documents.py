"""The ``properties`` of every kind of row equal the REST API's document of the same object, on SQLite and
PostgreSQL: the query tables are built in SQL, the REST documents in Python, from the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from querydata import Estate, estate

from containerguard.api.app import create_app
from containerguard.config import load_settings
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.query.runner import run_query
from containerguard.store.tables import ImageRow
from containerguard.store.tokens import create_token


class Api:
    def __init__(self, client: TestClient, token: str, e: Estate) -> None:
        self.client, self.token, self.estate = client, token, e

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, (path, response.text)
        return response.json()

    def properties(self, query: str) -> list[Any]:
        result = run_query(self.estate.store.engine, f"{query} | project properties")
        return [row[0] for row in result.rows]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = Path(tmp_path_factory.mktemp("rest"))
    with estate(request.param, tmp) as e:
        config = ServerConfig(settings=load_settings(), database_url=e.store.url, workers=1, crawl_interval=0,
                              db_poll=0.1)
        with TestClient(create_app(config, JobContext.create(config, e.store), start_workers=False)) as client:
            with e.store.session() as s:
                token, _ = create_token(s, "reader")
            yield Api(client, token, e)


def by_id(items: list[dict[str, Any]], key: str = "id") -> dict[Any, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_image_assessments(api: Api) -> None:
    docs = api.properties("securityresources | where type == 'containerguard/assessments' "
                          "and properties.name == 'containerguard-image-vulnerabilities'")
    assert len(docs) == 3
    for doc in docs:
        assert doc == api.get(f"/api/v1/assessments/{doc['id']}")


def test_image_subassessments(api: Api) -> None:
    docs = api.properties("securityresources | where properties.additionalData.assessedResourceType == "
                          "'ContainerRegistryVulnerability'")
    assert sorted(int(d["id"]) for d in docs) == sorted(api.estate.finding_ids)
    for doc in docs:
        assert doc == api.get(f"/api/v1/subassessments/{doc['id']}")


def test_images(api: Api) -> None:
    docs = api.properties("resources | where type == 'containerguard/images'")
    assert len(docs) == 3
    for doc in docs:
        assert doc == api.get(f"/api/v1/images/{doc['digest']}", repository=doc["repository"])


def test_alerts(api: Api) -> None:
    docs = api.properties("securityresources | where type == 'containerguard/alerts'")
    assert sorted(d["id"] for d in docs) == sorted(api.estate.alerts)
    for doc in docs:
        assert doc == api.get(f"/api/v1/alerts/{doc['id']}")


def test_host_assessment_and_subassessments(api: Api) -> None:
    rest = api.get(f"/api/v1/hosts/{api.estate.host}/assessments")
    items = rest.pop("items")
    rest.pop("next")
    assert api.properties("securityresources | where type == 'containerguard/assessments' "
                          "and name == 'containerguard-host-configuration'") == [rest]
    subs = api.properties("securityresources | where properties.resourceDetails.source == 'DockerHost'")
    assert len(items) == 3
    assert by_id(subs) == by_id(items)


def test_cluster_results(api: Api) -> None:
    items = api.get(f"/api/v1/clusters/{api.estate.cluster}/assessments")["items"]
    docs = api.properties("securityresources | where properties.resourceDetails.source == 'Kubernetes'")
    assert len(items) == 3
    assert by_id(docs) == by_id(items)


def test_hosts(api: Api) -> None:
    docs = api.properties("resources | where type == 'containerguard/hosts'")
    assert by_id(docs) == by_id(api.get("/api/v1/hosts")["items"])
    assert len(docs) == 2


def test_clusters(api: Api) -> None:
    docs = api.properties("resources | where type == 'containerguard/clusters'")
    assert docs == [api.get(f"/api/v1/clusters/{api.estate.cluster}")]


def test_workloads_without_image_links(api: Api) -> None:
    """The containers' ``assessments`` links come from image references parsed in Python: not in the table."""
    items = api.get(f"/api/v1/clusters/{api.estate.cluster}/workloads")["items"]
    assert any(c["assessments"] for item in items for c in item["containers"])  # the API does link them
    for item in items:
        item["containers"] = [{k: v for k, v in c.items() if k != "assessments"} for c in item["containers"]]
    docs = api.properties("resources | where type == 'containerguard/workloads'")
    assert by_id(docs) == by_id(items)


def test_containers(api: Api) -> None:
    """A container is the host inventory's entry with its host (the image health links are Python-side)."""
    host = api.get(f"/api/v1/hosts/{api.estate.host}")
    docs = api.properties("resources | where type == 'containerguard/containers'")
    assert len(docs) == len(host["containers"]["items"]) == 1
    rest = host["containers"]["items"][0]
    doc = docs[0]
    assert {k: doc[k] for k in ("name", "image", "image_id", "state", "repo_digests")} == \
        {k: rest[k] for k in ("name", "image", "image_id", "state", "repo_digests")}
    assert (doc["host"], doc["hostId"]) == ("web-1", api.estate.host)
    with api.estate.store.session() as s:
        image = s.get(ImageRow, api.estate.api_image)
        assert image is not None and rest["image_assessments"][0]["digest"] == image.digest
