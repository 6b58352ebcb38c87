"""``POST /api/v1/query`` through FastAPI's TestClient: the answer's shape, 400 with the position for a bad
query (attempts at SQL included, and the store is intact after them), 401/403 for missing or non-reader
tokens, the row limit, and 408 when the time limit runs out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from querydata import Estate, estate

from containerguard.api.app import create_app
from containerguard.config import load_settings
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.query import runner
from containerguard.store.tokens import create_token

SLOW = "securityresources" + " | join kind=inner (securityresources) on type" * 4 + " | count"
"""22 rows joined with themselves five times over their type: 3^5 + 4^5 + 15^5 rows to count."""


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    estate: Estate

    def query(self, body: Any, role: str | None = "reader") -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.client.post("/api/v1/query", json=body, headers=headers)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = Path(tmp_path_factory.mktemp("api"))
    with estate("sqlite", tmp) as e:
        config = ServerConfig(settings=load_settings(), database_url=e.store.url, workers=1, crawl_interval=0,
                              db_poll=0.1)
        with TestClient(create_app(config, JobContext.create(config, e.store), start_workers=False)) as client:
            with e.store.session() as s:
                tokens = {role: create_token(s, role)[0] for role in ("admin", "reader", "agent", "webhook")}
            yield Api(client, tokens, e)


def test_answer_shape(api: Api) -> None:
    response = api.query({"query": "securityresources | summarize n = count() by type | order by type asc"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "columns": [{"name": "type", "type": "string"}, {"name": "n", "type": "long"}],
        "rows": [["containerguard/alerts", 3], ["containerguard/assessments", 4],
                 ["containerguard/assessments/subassessments", 15]],
        "truncated": False}
    assert api.query({"query": "resources | count"}, role="admin").json()["rows"] == [[9]]


@pytest.mark.parametrize(("query", "position", "token"), [
    ("resources | where name == 'x'; DROP TABLE images", "1:30", ";"),
    ("resources | where name == 'x' -- ", "1:31", "--"),
    ("resources | where name == '' or '1'='1'", "1:36", "="),
    ("resources | where name == 'x' /* */ | take 1", "1:31", "/*"),
    ("resources\n| where name == 'x\n| take 1", "2:17", "'"),
    ("resources | frobnicate", "1:13", "frobnicate"),
    ("resources | where nosuch == 1", "1:19", "nosuch"),
])
def test_bad_queries_are_400_with_the_position(api: Api, query: str, position: str, token: str) -> None:
    response = api.query({"query": query})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert position in detail and repr(token) in detail and "\n" not in detail
    # nothing ran: the store is whole
    assert api.query({"query": "resources | where type == 'containerguard/images' | count"}).json()["rows"] == [[3]]


def test_only_readers_and_admins_may_query(api: Api) -> None:
    body = {"query": "securityresources | take 1"}
    assert api.query(body, role=None).status_code == 401
    assert api.query(body, role="agent").status_code == 403
    assert api.query(body, role="webhook").status_code == 403
    bad = api.client.post("/api/v1/query", json=body, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_row_limit_and_truncation(api: Api) -> None:
    answer = api.query({"query": "securityresources", "limit": 4}).json()
    assert len(answer["rows"]) == 4 and answer["truncated"] is True
    assert api.query({"query": "securityresources | take 4", "limit": 4}).json()["truncated"] is False
    assert len(api.query({"query": "securityresources"}).json()["rows"]) == 22
    assert api.query({"query": "resources", "limit": 10001}).status_code == 422
    assert api.query({"query": "resources", "limit": 0}).status_code == 422


def test_default_row_limit_is_1000(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "DEFAULT_LIMIT", 3)
    answer = api.query({"query": "securityresources"}).json()
    assert len(answer["rows"]) == 3 and answer["truncated"] is True
    assert runner.check_limit(None) == 3 and runner.MAX_LIMIT == 10_000


def test_time_limit_is_408(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "DEFAULT_TIMEOUT", 0.001)
    response = api.query({"query": SLOW})
    assert response.status_code == 408, response.text
    assert "longer than" in response.json()["detail"]
    monkeypatch.setattr(runner, "DEFAULT_TIMEOUT", 30.0)
    assert api.query({"query": "resources | count"}).json()["rows"] == [[9]]  # the connection works after it
