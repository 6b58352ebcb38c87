"""Dashboard sign-in: tokens exchanged for a sealed cookie; redirects; CSRF; roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from webclient import csrf_of, make_token, web_client

from containerguard.store.tables import TokenRow
from containerguard.web.session import COOKIE, safe_next


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with web_client(tmp_path) as c:
        yield c


def test_pages_redirect_to_login_with_next(client: TestClient) -> None:
    answer = client.get("/?repository=a%20b")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2F%3Frepository%3Da%2520b"


def test_login_sets_strict_httponly_cookie_and_goes_next(client: TestClient) -> None:
    token = make_token(client, "reader")
    answer = client.post("/login", data={"token": token, "next": "/alerts"})
    assert answer.status_code == 303 and answer.headers["location"] == "/alerts"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert token not in cookie


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("webhook", 403)])
def test_machine_tokens_cannot_sign_in(client: TestClient, role: str, status: int) -> None:
    answer = client.post("/login", data={"token": make_token(client, role)})
    assert answer.status_code == status and "cannot open the dashboard" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")


def test_wrong_token_is_401_with_one_line(client: TestClient) -> None:
    answer = client.post("/login", data={"token": "cg_nope"})
    assert answer.status_code == 401 and "not valid" in answer.text


def test_forged_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set(COOKIE, "gAAAAABforged")
    assert client.get("/").status_code == 303


def test_deleted_token_ends_session(client: TestClient) -> None:
    token = make_token(client, "admin")
    client.post("/login", data={"token": token})
    assert client.get("/").status_code == 200
    with client.app.state.ctx.store.session() as s:  # type: ignore[attr-defined]
        for row in s.query(TokenRow).all():
            s.delete(row)
    assert client.get("/").status_code == 303


def test_logout_needs_csrf(client: TestClient) -> None:
    client.post("/login", data={"token": make_token(client, "admin")})
    page = client.get("/")
    csrf = csrf_of(page.text)
    assert csrf
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert client.get("/").status_code == 200
    answer = client.post("/logout", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


@pytest.mark.parametrize(("given", "expected"), [
    ("/images", "/images"), ("//evil.example/", "/"), ("https://evil.example/", "/"), ("/\\evil", "/"), ("", "/")])
def test_next_is_local_only(given: str, expected: str) -> None:
    assert safe_next(given) == expected


def test_pages_send_security_headers(client: TestClient) -> None:
    answer = client.get("/login")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
