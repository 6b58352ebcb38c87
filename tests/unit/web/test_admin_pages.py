"""The Registries and Tokens tabs: readers read registries, admins register (the same path as the API:
secret issued, crawl queued) and see the registry's notification snippet once, crawl, remove;
tokens are admin only, shown once, never by hash; CSRF on every form; hostile names escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from webclient import csrf_of, sign_in, web_client

from containerguard.jobs.dispatch import CRAWL, Job
from containerguard.store import registries as repo
from containerguard.store.db import Store
from containerguard.store.secrets import Cipher, hash_token
from containerguard.store.tables import TokenRow
from containerguard.store.tokens import create_token

XSS = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'


class Recorder:
    """Stands in for the dispatcher: remembers the jobs handed over."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def submit(self, job: Job) -> None:
        self.jobs.append(job)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        c.app.state.dispatcher = Recorder()  # type: ignore[attr-defined]
        yield c


def ctx_of(client: TestClient) -> Any:
    return client.app.state.ctx  # type: ignore[attr-defined]


def store_of(client: TestClient) -> Store:
    found: Store = ctx_of(client).store
    return found


def jobs_of(client: TestClient) -> list[Job]:
    recorder: Recorder = client.app.state.dispatcher  # type: ignore[attr-defined]
    return recorder.jobs


def add_registry(client: TestClient, name: str = "local", url: str = "http://127.0.0.1:5000",
                 crawl_error: str = "") -> int:
    cipher: Cipher = ctx_of(client).cipher
    with store_of(client).session() as s:
        row, _ = repo.add_registry(s, cipher, name, url)
        row.crawl_error = crawl_error
        s.flush()
        return row.id


def snippet_of(page: str) -> str:
    found = re.search(r'<code id="snippet">(.*?)</code>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


# -- registries ---------------------------------------------------------------------------------


def test_readers_see_registries_but_no_forms(client: TestClient) -> None:
    registry_id = add_registry(client)
    csrf = sign_in(client, "reader")
    page = client.get("/registries")
    assert page.status_code == 200
    assert "local" in page.text and "http://127.0.0.1:5000" in page.text and "never" in page.text
    assert 'action="/registries"' not in page.text and "Crawl now" not in page.text and "Remove…" not in page.text
    form = {"csrf": csrf, "name": "other", "url": "https://r.example.com"}
    assert client.post("/registries", data=form).status_code == 403
    assert client.post(f"/registries/{registry_id}/crawl", data={"csrf": csrf}).status_code == 403
    assert client.get(f"/registries/{registry_id}/delete").status_code == 403
    assert client.post(f"/registries/{registry_id}/delete", data={"csrf": csrf}).status_code == 403
    with store_of(client).session() as s:
        assert [r.name for r in repo.list_registries(s)] == ["local"]
    assert jobs_of(client) == []


def test_empty_state_tells_the_next_step(client: TestClient) -> None:
    sign_in(client, "reader")
    assert "Ask an admin to register your registry" in client.get("/registries").text
    client.cookies.clear()
    sign_in(client, "admin")
    page = client.get("/registries").text
    assert "No registry registered yet" in page and "Next step" in page and 'action="/registries"' in page


def test_register_shows_the_notification_snippet_once(client: TestClient) -> None:
    csrf = sign_in(client, "admin")
    answer = client.post("/registries", data={"csrf": csrf, "name": "local", "url": "http://127.0.0.1:5000",
                                              "username": "ci", "password": "s3cret"})
    assert answer.status_code == 201, answer.text
    config = yaml.safe_load(snippet_of(answer.text))
    endpoint = config["notifications"]["endpoints"][0]
    auth = endpoint["headers"]["Authorization"]
    assert isinstance(auth, list) and len(auth) == 1 and auth[0].startswith("Bearer cg_")
    secret = auth[0].removeprefix("Bearer ")
    assert endpoint == {"name": "containerguard", "url": "http://testserver/api/v1/webhooks/distribution",
                        "headers": {"Authorization": [f"Bearer {secret}"]}, "timeout": "5s", "threshold": 5,
                        "backoff": "10s"}
    assert list(config) == ["notifications"] and list(config["notifications"]) == ["endpoints"]

    # Registered as POST /api/v1/registries does: webhook secret bound to it, password encrypted, crawl queued.
    with store_of(client).session() as s:
        row = repo.list_registries(s)[0]
        assert (row.name, row.host, row.insecure, row.username) == ("local", "127.0.0.1:5000", True, "ci")
        assert row.password != "s3cret" and repo.access(row, ctx_of(client).cipher).password == "s3cret"
        token = s.query(TokenRow).filter(TokenRow.registry_id == row.id).one()
        assert token.role == "webhook" and token.token_hash == hash_token(secret)
        registry_id = row.id
    assert jobs_of(client) == [Job(CRAWL, str(registry_id))]

    # The secret signs notifications at the URL the snippet names.
    path = endpoint["url"].removeprefix("http://testserver")
    assert client.post(path, json={"events": []}, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.post(path, json={"events": []}, headers={"Authorization": "Bearer nope"}).status_code == 401

    listing = client.get("/registries").text
    assert "local" in listing and secret not in listing and "s3cret" not in listing


def test_register_refuses_bad_input_and_forged_forms(client: TestClient) -> None:
    csrf = sign_in(client, "admin")
    form = {"name": "local", "url": "http://127.0.0.1:5000"}
    assert client.post("/registries", data=form).status_code == 403
    assert client.post("/registries", data=form | {"csrf": "wrong"}).status_code == 403
    bad = client.post("/registries", data=form | {"csrf": csrf, "url": "ftp://x/y", "password": "pw-kept-out"})
    assert bad.status_code == 400 and "registry url must be" in bad.text
    assert 'value="ftp://x/y"' in bad.text and "pw-kept-out" not in bad.text  # the form keeps all but the password
    empty = client.post("/registries", data={"csrf": csrf, "name": "", "url": "http://127.0.0.1:5000"})
    assert empty.status_code == 400 and "Name:" in empty.text
    assert client.post("/registries", data=form | {"csrf": csrf}).status_code == 201
    taken = client.post("/registries", data=form | {"csrf": csrf})
    assert taken.status_code == 400 and "exists already" in taken.text
    with store_of(client).session() as s:
        assert len(repo.list_registries(s)) == 1
    assert len(jobs_of(client)) == 1


def test_crawl_now_and_remove_with_confirmation(client: TestClient) -> None:
    registry_id = add_registry(client)
    csrf = sign_in(client, "admin")
    assert client.post(f"/registries/{registry_id}/crawl", data={"csrf": "wrong"}).status_code == 403
    crawl = client.post(f"/registries/{registry_id}/crawl", data={"csrf": csrf})
    assert crawl.status_code == 303 and crawl.headers["location"] == "/registries?done=crawl"
    assert jobs_of(client) == [Job(CRAWL, str(registry_id))]
    assert "crawl of the registry" in client.get("/registries?done=crawl").text
    assert client.post("/registries/999/crawl", data={"csrf": csrf}).status_code == 404

    confirm = client.get(f"/registries/{registry_id}/delete")
    assert confirm.status_code == 200 and f'action="/registries/{registry_id}/delete"' in confirm.text
    assert client.post(f"/registries/{registry_id}/delete", data={}).status_code == 403
    gone = client.post(f"/registries/{registry_id}/delete", data={"csrf": csrf_of(confirm.text)})
    assert gone.status_code == 303 and gone.headers["location"] == "/registries?done=deleted"
    with store_of(client).session() as s:
        assert repo.list_registries(s) == []
        assert s.query(TokenRow).filter(TokenRow.role == "webhook").count() == 0  # its secret went with it
    assert client.post(f"/registries/{registry_id}/delete", data={"csrf": csrf}).status_code == 404


def test_registry_data_is_escaped(client: TestClient) -> None:
    registry_id = add_registry(client, name=XSS, crawl_error=f"GET /v2/_catalog: {XSS_ATTR}")
    csrf = sign_in(client, "admin")
    for path in ("/registries", f"/registries/{registry_id}/delete"):
        page = client.get(path).text
        assert XSS not in page and XSS_ATTR not in page and "<img" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    added = client.post("/registries", data={"csrf": csrf, "name": XSS_ATTR, "url": "https://r.example.com"})
    assert added.status_code == 201 and XSS_ATTR not in added.text and "<img" not in added.text


# -- tokens -------------------------------------------------------------------------------------


def test_tokens_are_admin_only(client: TestClient) -> None:
    csrf = sign_in(client, "reader")
    page = client.get("/tokens")
    assert page.status_code == 403 and "admin" in page.text
    assert client.post("/tokens", data={"csrf": csrf, "name": "x", "role": "admin"}).status_code == 403
    assert client.get("/tokens/1/delete").status_code == 403
    assert client.post("/tokens/1/delete", data={"csrf": csrf}).status_code == 403
    with store_of(client).session() as s:
        assert s.query(TokenRow).count() == 1  # only the reader's own


def test_list_shows_tokens_but_never_a_hash(client: TestClient) -> None:
    with store_of(client).session() as s:
        create_token(s, "agent", name="watch on web-1")
    add_registry(client, name="local")
    sign_in(client, "admin")
    page = client.get("/tokens").text
    with store_of(client).session() as s:
        hashes = [t.token_hash for t in s.query(TokenRow)]
    assert len(hashes) == 3
    assert not any(h in page for h in hashes)
    assert "watch on web-1" in page and "registry local" in page and "this session" in page
    rows = re.findall(r"<tr>.*?</tr>", page.split("<tbody>")[1], re.S)
    assert len(rows) == 3 and sum("Remove…" in r for r in rows) == 2  # not the session's own


def test_create_shows_the_token_once_and_it_works(client: TestClient) -> None:
    csrf = sign_in(client, "admin")
    assert client.post("/tokens", data={"name": "alice", "role": "reader"}).status_code == 403
    assert client.post("/tokens", data={"csrf": "wrong", "name": "alice", "role": "reader"}).status_code == 403
    bad_role = client.post("/tokens", data={"csrf": csrf, "name": "hook", "role": "webhook"})
    assert bad_role.status_code == 400 and "Role must be one of" in bad_role.text
    assert client.post("/tokens", data={"csrf": csrf, "name": "  ", "role": "reader"}).status_code == 400
    created = client.post("/tokens", data={"csrf": csrf, "name": "alice", "role": "reader"})
    assert created.status_code == 201
    found = re.search(r'id="new-token" class="secret" type="text" value="([^"]+)"', created.text)
    assert found is not None
    token = found.group(1)
    assert "only time it is shown" in created.text and 'data-copy="new-token"' in created.text
    with store_of(client).session() as s:
        row = s.query(TokenRow).filter(TokenRow.name == "alice").one()
        assert row.role == "reader" and row.token_hash == hash_token(token)
    assert token not in client.get("/tokens").text
    signed = client.post("/login", data={"token": token, "next": "/alerts"})
    assert signed.status_code == 303 and signed.headers["location"] == "/alerts"


def test_remove_a_token_but_not_the_one_in_use(client: TestClient) -> None:
    csrf = sign_in(client, "admin")
    with store_of(client).session() as s:
        mine = s.query(TokenRow).one().id
        other_token, other = create_token(s, "reader", name="bob")
        other_id = other.id
    own = client.get(f"/tokens/{mine}/delete")
    assert own.status_code == 200 and "You are signed in with this token" in own.text and "<form" not in \
        own.text.split("<main")[1]
    refused = client.post(f"/tokens/{mine}/delete", data={"csrf": csrf})
    assert refused.status_code == 400 and client.get("/tokens").status_code == 200  # still signed in

    bob = TestClient(client.app, follow_redirects=False)
    assert bob.post("/login", data={"token": other_token}).status_code == 303
    assert bob.get("/alerts").status_code == 200

    confirm = client.get(f"/tokens/{other_id}/delete")
    assert confirm.status_code == 200 and "bob" in confirm.text
    assert client.post(f"/tokens/{other_id}/delete", data={"csrf": "wrong"}).status_code == 403
    gone = client.post(f"/tokens/{other_id}/delete", data={"csrf": csrf})
    assert gone.status_code == 303 and gone.headers["location"] == "/tokens?done=deleted"
    with store_of(client).session() as s:
        assert s.get(TokenRow, other_id) is None
    assert bob.get("/alerts").status_code == 303  # bob's session ended with his token
    assert client.post(f"/tokens/{other_id}/delete", data={"csrf": csrf}).status_code == 404


def test_token_names_are_escaped(client: TestClient) -> None:
    with store_of(client).session() as s:
        _, row = create_token(s, "reader", name=XSS_ATTR)
        token_id = row.id
    csrf = sign_in(client, "admin")
    for path in ("/tokens", f"/tokens/{token_id}/delete"):
        page = client.get(path).text
        assert XSS_ATTR not in page and "<img" not in page, path
    created = client.post("/tokens", data={"csrf": csrf, "name": XSS, "role": "agent"})
    assert created.status_code == 201 and XSS not in created.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/tokens").text
