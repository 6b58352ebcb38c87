"""Docker hosts in the server through FastAPI's TestClient: registration with a host-scoped agent
token, token scoping, snapshot ingest (the hand-written snapshots of tests/fixtures/host, mutated),
inventory with links to stored image assessments, sub-assessments, history and changes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from containerguard.api.app import create_app
from containerguard.config import load_settings
from containerguard.jobs.config import ServerConfig
from containerguard.jobs.context import JobContext
from containerguard.pipeline.audit import RECOMMENDATION
from containerguard.store.db import Store
from containerguard.store.tables import HostSnapshotRow, ImageRow, TokenRow
from containerguard.store.tokens import create_token

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host"
IMAGE_ID = "sha256:" + "11" * 32
DIGEST = "sha256:" + "ab" * 32
OTHER_ID = "sha256:" + "22" * 32


def fixture(name: str = "hardened.json") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return doc


def mutated(*changes: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(fixture())
    for change in changes:
        change(doc)
    return doc


def privileged(doc: dict[str, Any]) -> None:
    doc["containers"][0]["HostConfig"]["Privileged"] = True


def unlimited(doc: dict[str, Any]) -> None:
    doc["containers"][0]["HostConfig"]["Memory"] = 0


def open_socket(doc: dict[str, Any]) -> None:
    """docker.sock world-writable: 3.16, one of the 21 Automated controls of v1.6.0, host-level."""
    doc["files"]["/var/run/docker.sock"]["mode"] = "0666"


def digested(doc: dict[str, Any]) -> None:
    doc["images"][0]["inspect"]["RepoDigests"] = [f"registry.example.com/api@{DIGEST}"]


def second_container(doc: dict[str, Any]) -> None:
    """A stopped ``worker`` container of an image the server does not know."""
    extra = copy.deepcopy(doc["containers"][0])
    extra.update(Id="d" * 64, Name="/worker", Image=OTHER_ID)
    extra["Config"]["Image"] = "registry.example.com/worker:2"
    extra["State"] = {"Status": "exited", "Running": False, "Pid": 0, "ExitCode": 0}
    doc["containers"].append(extra)


@dataclass
class Api:
    client: TestClient
    admin: str
    reader: str
    store: Store

    def call(self, method: str, path: str, token: str | None, body: Any = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = None if body is None else json.dumps(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.client.request(method, path, headers=headers, content=content, params=params)

    def get(self, path: str, **params: Any) -> Any:
        response = self.call("GET", path, self.reader, **params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def register(self, name: str) -> dict[str, Any]:
        response = self.call("POST", "/api/v1/hosts", self.admin, {"name": name})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def push(self, host: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        response = self.call("POST", f"/api/v1/hosts/{host['id']}/snapshots", host["token"], doc)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    config = ServerConfig(settings=load_settings(), database_url=f"sqlite:///{tmp_path / 'cg.db'}", workers=1,
                          crawl_interval=0, db_poll=0.1)
    store = Store(config.url)
    ctx = JobContext.create(config, store)
    with TestClient(create_app(config, ctx, start_workers=False)) as client:
        with store.session() as s:
            admin, _ = create_token(s, "admin")
            reader, _ = create_token(s, "reader")
        yield Api(client, admin, reader, store)
    store.close()


def test_registration_makes_a_host_scoped_agent_token(api: Api) -> None:
    host = api.register("web-1")
    assert set(host) >= {"id", "token"} and host["token"]
    with api.store.session() as s:
        row = s.scalars(select(TokenRow).where(TokenRow.name == "host:web-1")).one()
        assert row.role == "agent" and row.token_hash != host["token"]  # only the hash is kept
    assert api.call("POST", "/api/v1/hosts", api.admin, {"name": "web-1"}).status_code == 400  # name taken
    assert api.call("POST", "/api/v1/hosts", api.reader, {"name": "web-2"}).status_code == 403
    assert api.call("POST", "/api/v1/hosts", None, {"name": "web-2"}).status_code == 401
    assert api.call("POST", "/api/v1/hosts", api.admin, {"name": ""}).status_code == 422
    me = api.call("GET", "/api/v1/hosts/me", host["token"])
    assert me.status_code == 200 and me.json() == {"id": host["id"], "name": "web-1"}
    # Before any snapshot: listed as Pending, no assessment yet.
    listed = api.get("/api/v1/hosts")["items"]
    assert [(h["name"], h["health"], h["docker_version"]) for h in listed] == [("web-1", "Pending", None)]
    assert api.call("GET", f"/api/v1/hosts/{host['id']}/assessments", api.reader).status_code == 404


def test_agent_tokens_are_scoped_to_their_host(api: Api) -> None:
    one, two = api.register("one"), api.register("two")
    path = f"/api/v1/hosts/{one['id']}/snapshots"
    assert api.call("POST", path, None, fixture()).status_code == 401
    assert api.call("POST", path, "cg_not_a_token", fixture()).status_code == 401
    assert api.call("POST", path, two["token"], fixture()).status_code == 403  # another host's token
    assert api.call("POST", path, api.reader, fixture()).status_code == 403  # readers cannot push
    with api.store.session() as s:
        unbound, _ = create_token(s, "agent", name="unbound")
    assert api.call("POST", path, unbound, fixture()).status_code == 403
    assert api.call("POST", "/api/v1/hosts/999/snapshots", one["token"], fixture()).status_code == 403
    # An agent token reads nothing but its own identity.
    assert api.call("GET", "/api/v1/hosts", one["token"]).status_code == 403
    assert api.call("GET", f"/api/v1/hosts/{one['id']}", one["token"]).status_code == 403
    assert api.call("GET", "/api/v1/hosts/me", unbound).status_code == 404
    assert api.call("GET", "/api/v1/hosts/me", api.reader).status_code == 403
    with api.store.session() as s:
        assert s.scalars(select(HostSnapshotRow)).all() == []
    assert api.call("POST", path, one["token"], fixture()).status_code == 201


def test_malformed_snapshots_are_refused_and_not_stored(api: Api) -> None:
    host = api.register("h")
    path = f"/api/v1/hosts/{host['id']}/snapshots"
    truncated = fixture()
    del truncated["info"]
    for bad in ({}, {"kind": "something-else"}, truncated, [1, 2]):
        response = api.call("POST", path, host["token"], bad)
        assert response.status_code in (400, 422), (bad, response.text)
    response = api.client.post(path, content=b"{not json", headers={"Authorization": f"Bearer {host['token']}",
                                                                     "Content-Type": "application/json"})
    assert response.status_code == 422
    with api.store.session() as s:
        assert s.scalars(select(HostSnapshotRow)).all() == []
    assert api.get(f"/api/v1/hosts/{host['id']}")["health"] == "Pending"


def test_ingest_audits_and_fills_the_inventory(api: Api) -> None:
    host = api.register("web-1")
    first = api.push(host, fixture())
    assert first["health"] == "Healthy" and first["failed_scored_controls"] == 0
    second = api.push(host, mutated(privileged, unlimited, second_container))
    # 5.5 and 5.11 are Manual in v1.6.0: decided failures all the same.
    assert second["health"] == "Unhealthy" and second["id"] > first["id"] and second["failed_scored_controls"] == 2

    doc = fixture()
    [listed] = api.get("/api/v1/hosts")["items"]
    assert listed["hostname"] == doc["info"]["Name"]
    assert listed["os"] == doc["info"]["OperatingSystem"] and listed["kernel"] == doc["info"]["KernelVersion"]
    assert listed["docker_version"] == doc["version"]["Version"] == "24.0.7"
    assert listed["api_version"] == doc["version"]["ApiVersion"]
    assert listed["storage_driver"] == doc["info"]["Driver"]
    assert listed["images"] == len(doc["images"])
    assert listed["containers"] == {"running": 1, "stopped": 1}
    assert listed["health"] == "Unhealthy" and listed["recommendation"] == RECOMMENDATION
    assert listed["last_assessment"] == second["id"]

    history = api.get(f"/api/v1/hosts/{host['id']}/snapshots")["items"]
    assert [h["id"] for h in history] == [second["id"], first["id"]]
    with api.store.session() as s:
        stored = s.get(HostSnapshotRow, first["id"])
        assert stored is not None and json.loads(stored.snapshot)["version"]["Version"] == "24.0.7"
        assert len(stored.results) > 50  # every control of the benchmark has a result


def test_container_images_link_to_stored_vulnerability_assessments(api: Api) -> None:
    host = api.register("web-1")
    with api.store.session() as s:
        s.add(ImageRow(registry_host="registry.example.com", repository="api", digest=DIGEST, tags=["1.3"],
                       health="Unhealthy", high=2))
        s.add(ImageRow(registry_host="registry.example.com", repository="api", digest="sha256:" + "cd" * 32,
                       tags=["1.4"], health="Healthy"))
    # By tag while the engine reports no repository digest.
    api.push(host, mutated(second_container))
    detail = api.get(f"/api/v1/hosts/{host['id']}")
    by_name = {c["name"]: c for c in detail["containers"]["items"]}
    assert set(by_name) == {"api", "worker"}
    assert by_name["api"]["image"] == "registry.example.com/api:1.4"
    assert by_name["api"]["image_health"] == "Healthy"
    assert [a["digest"] for a in by_name["api"]["image_assessments"]] == ["sha256:" + "cd" * 32]
    assert by_name["worker"]["image_health"] is None and by_name["worker"]["image_assessments"] == []
    assert by_name["worker"]["state"] == "exited"
    # The repository digest wins over the tag: the engine says the image is the 1.3 build.
    api.push(host, mutated(digested))
    [api_container] = api.get(f"/api/v1/hosts/{host['id']}")["containers"]["items"]
    assert api_container["image_health"] == "Unhealthy"
    assert [a["digest"] for a in api_container["image_assessments"]] == [DIGEST]
    assert api_container["image_assessments"][0]["link"].startswith("/api/v1/assessments/")


def test_assessments_are_one_per_failed_control_and_container(api: Api) -> None:
    host = api.register("web-1")
    api.push(host, fixture())
    healthy = api.get(f"/api/v1/hosts/{host['id']}/assessments")
    assert healthy["status"]["code"] == "Healthy" and healthy["items"] == []
    api.push(host, mutated(privileged, unlimited, open_socket))
    body = api.get(f"/api/v1/hosts/{host['id']}/assessments")
    assert body["recommendation"] == RECOMMENDATION and body["status"]["code"] == "Unhealthy"
    got = {(i["name"], i["resourceDetails"]["resource"]) for i in body["items"]}
    assert got == {("5.5", "api"), ("5.11", "api"), ("3.16", None)}
    item = next(i for i in body["items"] if i["name"] == "5.5")
    assert item["status"]["code"] == "Unhealthy" and item["status"]["description"]
    # The benchmark's flag, as the benchmark prints it: Manual and Automated failures alike are listed.
    assert item["remediation"] and item["additionalData"]["automated"] is False
    assert {i["name"]: i["additionalData"]["automated"] for i in body["items"]} == {
        "5.5": False, "5.11": False, "3.16": True}
    assert body["assessment"]["failed_scored_controls"] == 3
    # An older assessment stays readable.
    first = api.get(f"/api/v1/hosts/{host['id']}/snapshots")["items"][-1]["id"]
    assert api.get(f"/api/v1/hosts/{host['id']}/assessments", snapshot=first)["items"] == []
    assert api.call("GET", f"/api/v1/hosts/{host['id']}/assessments", api.reader, snapshot=10**6).status_code == 404


def test_changes_between_two_assessments(api: Api) -> None:
    host = api.register("web-1")
    a = api.push(host, mutated(unlimited))
    assert api.call("GET", f"/api/v1/hosts/{host['id']}/changes", api.reader).status_code == 404  # one only
    b = api.push(host, mutated(privileged, second_container))
    changes = api.get(f"/api/v1/hosts/{host['id']}/changes")  # default: latest vs the one before
    assert changes["from"]["id"] == a["id"] and changes["to"]["id"] == b["id"]
    assert [(c["id"], c["resource"]) for c in changes["newly_failing"]] == [("5.5", "api")]
    assert [(c["id"], c["resource"]) for c in changes["fixed"]] == [("5.11", "api")]
    assert [c["name"] for c in changes["containers_added"]] == ["worker"]
    assert changes["containers_removed"] == [] and changes["containers_changed"] == []
    # Explicit ids, reversed: everything flips.
    back = api.get(f"/api/v1/hosts/{host['id']}/changes", **{"from": b["id"], "to": a["id"]})
    assert [c["id"] for c in back["newly_failing"]] == ["5.11"] and [c["id"] for c in back["fixed"]] == ["5.5"]
    assert [c["name"] for c in back["containers_removed"]] == ["worker"]
    # A container that stopped is a change, not an addition.
    c = api.push(host, mutated(privileged, second_container,
                               lambda d: d["containers"][0].update(State={"Status": "exited", "Running": False})))
    stopped = api.get(f"/api/v1/hosts/{host['id']}/changes", **{"from": b["id"], "to": c["id"]})
    assert [(x["name"], x["from"]["state"], x["to"]["state"]) for x in stopped["containers_changed"]] == [
        ("api", "running", "exited")]
    # Section 5 assesses running containers only: the stopped one's failure is gone.
    assert [x["id"] for x in stopped["fixed"]] == ["5.5"]
    assert api.call("GET", f"/api/v1/hosts/{host['id']}/changes", api.reader,
                    **{"from": 10**6}).status_code == 404


def test_delete_removes_history_and_token(api: Api) -> None:
    host = api.register("gone")
    api.push(host, fixture())
    assert api.call("DELETE", f"/api/v1/hosts/{host['id']}", api.reader).status_code == 403
    assert api.call("DELETE", f"/api/v1/hosts/{host['id']}", api.admin).status_code == 204
    assert api.call("GET", f"/api/v1/hosts/{host['id']}", api.reader).status_code == 404
    assert api.call("POST", f"/api/v1/hosts/{host['id']}/snapshots", host["token"], fixture()).status_code == 401
    with api.store.session() as s:
        assert s.scalars(select(HostSnapshotRow)).all() == []
