"""``containerguard query``: on the local store of $CONTAINERGUARD_HOME (table, json, csv), on a server
(``--server``/``--token``), and a one-line error with exit code 2 for a bad query."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from querydata import seed
from typer.testing import CliRunner

from containerguard.api.app import create_app
from containerguard.cli.query import query
from containerguard.config import load_settings
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.store.db import Store
from containerguard.store.tokens import create_token

app = typer.Typer()
app.command()(query)
app.command("other")(lambda: None)  # two commands: the query is a subcommand, as in containerguard's CLI
QUERY = "securityresources | summarize n = count() by type | order by type asc"


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[Store]:
    """The store the CLI opens by itself: the SQLite file under $CONTAINERGUARD_HOME (set per test)."""
    store = Store.open(load_settings())
    seed(store, tmp_path / "home")
    yield store
    store.close()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["query", *args])


def test_table(local_store: Store) -> None:
    result = invoke(QUERY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("type" in line and "n" in line for line in lines[:3])
    assert any("containerguard/assessments/subassessments" in line and "15" in line for line in lines)
    assert "3 row(s)" in result.stdout


def test_json(local_store: Store) -> None:
    result = invoke(QUERY, "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "columns": [{"name": "type", "type": "string"}, {"name": "n", "type": "long"}],
        "rows": [["containerguard/alerts", 3], ["containerguard/assessments", 4],
                 ["containerguard/assessments/subassessments", 15]],
        "truncated": False}


def test_csv_with_dynamic_values(local_store: Store) -> None:
    result = invoke("resources | where type == 'containerguard/images' | project name, tags = properties.tags, "
                    "ok = properties.health == 'Healthy' | order by name asc", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["name", "tags", "ok"]
    assert [json.loads(r[1]) for r in rows[1:]] == [["1.22"], ["1.4", "latest"], ["2.0"]]
    assert [r[2] for r in rows[1:]] == ["false", "false", "true"]


def test_limit_and_truncation_note(local_store: Store) -> None:
    result = invoke("securityresources", "--limit", "2", "-f", "json")
    answer = json.loads(result.stdout)
    assert len(answer["rows"]) == 2 and answer["truncated"] is True
    table = invoke("securityresources", "--limit", "2")
    assert "only the first 2 rows" in table.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("resources | where name == 'x'; drop table images",), "1:30"),
    (("resources | where nosuch == 1",), "unknown column 'nosuch'"),
    (("resources", "-f", "xml"), "unknown format 'xml'"),
    (("resources", "--limit", "0"), "row limit"),
    (("resources", "--server", "ftp://x", "--token", "t"), "http(s)://"),
    (("resources", "--server", "http://127.0.0.1:9"), "--token"),
])
def test_errors_exit_2_with_one_line(local_store: Store, args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("containerguard: error:") and message in lines[0]


@pytest.fixture
def server(local_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The API of the same store; ``httpx.post`` to http://cg.test goes to it."""
    config = ServerConfig(settings=load_settings(), database_url=local_store.url, workers=1, crawl_interval=0,
                          db_poll=0.1)
    with TestClient(create_app(config, JobContext.create(config, local_store), start_workers=False),
                    base_url="http://cg.test") as client:
        with local_store.session() as s:
            tokens = {role: create_token(s, role)[0] for role in ("reader", "agent")}

        def post(url: str, **kwargs: Any) -> httpx.Response:
            assert url == "http://cg.test/api/v1/query"
            kwargs.pop("timeout", None)
            response: httpx.Response = client.post(url, **kwargs)
            return response

        monkeypatch.setattr(httpx, "post", post)
        yield tokens


def test_remote(server: dict[str, str]) -> None:
    result = invoke(QUERY, "--server", "http://cg.test/", "--token", server["reader"], "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"][2] == ["containerguard/assessments/subassessments", 15]


def test_remote_errors(server: dict[str, str]) -> None:
    refused = invoke(QUERY, "--server", "http://cg.test", "--token", server["agent"])
    assert refused.exit_code == 2 and "403" in refused.stderr
    bad = invoke("resources | where", "--server", "http://cg.test", "--token", server["reader"])
    assert bad.exit_code == 2 and "400" in bad.stderr and "1:18" in bad.stderr
