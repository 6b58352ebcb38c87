"""The store on SQLite and PostgreSQL: migrations, secrets at rest, images, findings, the scan queue."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from pgdb import throwaway_database
from sqlalchemy import inspect, select

from containerguard.config import Settings
from containerguard.errors import ConfigError
from containerguard.models.advisory import Severity
from containerguard.models.finding import Finding
from containerguard.models.sbom import Location, Package
from containerguard.store import registries
from containerguard.store.db import Store, migrate
from containerguard.store.findings import CLOSED, OPEN, list_findings, sync_findings
from containerguard.store.images import ImageFilter, add_tags, ensure_image, images_of, list_images, set_counts
from containerguard.store.scans import DONE, QUEUED, RUNNING, claim_next, fail, finish, new_scan, requeue_running
from containerguard.store.secrets import Cipher, hash_token, key_path
from containerguard.store.tables import Base, RegistryRow, TokenRow, utcnow
from containerguard.store.tokens import create_token, find_token


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'cg.db'}")
        migrate(opened.engine)
        yield opened
        opened.close()
        return
    with throwaway_database() as url:
        opened = Store(url)
        migrate(opened.engine)
        yield opened
        opened.close()


def finding(vuln: str, name: str = "openssl", version: str = "1.0", level: str = "HIGH") -> Finding:
    pkg = Package("deb", name, version, locations=(Location("var/lib/dpkg/status", "sha256:l1"),))
    return Finding(id=vuln, aliases=(), package=pkg, installed_version=version, fixed_version="2.0",
                   fix_state="fixed", category="OS",
                   severity=Severity(level, "cvss_v3", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"))


def test_migrations_match_the_models_and_are_idempotent(store: Store) -> None:
    migrate(store.engine)  # a second upgrade is a no-op
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"registries", "api_tokens", "images", "findings", "scans", "events", "server_state",
            "alembic_version"} <= set(inspect(store.engine).get_table_names())


def test_registry_password_is_encrypted_at_rest(store: Store, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    cipher = Cipher.for_settings(settings)
    assert stat.S_IMODE(key_path(settings).stat().st_mode) == 0o600
    with store.session() as s:
        row, token = registries.add_registry(s, cipher, "hub", "http://127.0.0.1:5000", username="u",
                                             password="hunter2")
        registry_id = row.id
    with store.session() as s:
        stored_row = s.get(RegistryRow, registry_id)
        assert stored_row is not None
        row = stored_row
        assert row.password != "hunter2" and "hunter2" not in row.password
        assert row.host == "127.0.0.1:5000" and row.insecure  # http URL
        assert registries.access(row, Cipher.for_settings(settings)).password == "hunter2"
        stored = s.scalars(select(TokenRow).where(TokenRow.registry_id == registry_id)).one()
        assert stored.role == "webhook" and stored.token_hash == hash_token(token) and token not in stored.token_hash
        with pytest.raises(ConfigError):
            registries.add_registry(s, cipher, "hub", "https://other.example")
    with store.session() as s, pytest.raises(ConfigError, match="cannot be decrypted"):
        other = s.get(RegistryRow, registry_id)
        assert other is not None
        registries.access(other, Cipher(Fernet.generate_key()))


@pytest.mark.parametrize("url", ["ftp://x", "http://", "http://host/path"])
def test_bad_registry_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        registries.registry_host(url)


def test_tokens_are_found_by_hash_only(store: Store) -> None:
    with store.session() as s:
        token, row = create_token(s, "reader", name="ci")
        assert row.token_hash == hash_token(token)
    with store.session() as s:
        found = find_token(s, token)
        assert found is not None and found.role == "reader" and found.last_used is not None
        assert find_token(s, token + "x") is None
        with pytest.raises(ConfigError):
            create_token(s, "root")


def test_images_tags_filters_and_cursor(store: Store) -> None:
    with store.session() as s:
        for n in range(5):
            row = ensure_image(s, "reg:5000", f"app{n % 2}", f"sha256:{n:064x}")
            row.health = "Unhealthy" if n % 2 else "Healthy"
            set_counts(row, {"HIGH": n % 2})
        same = ensure_image(s, "reg:5000", "app0", f"sha256:{0:064x}")
        assert add_tags(same, ["1", "latest"]) and not add_tags(same, ["latest"])
        assert same.tags == ["1", "latest"]
    with store.session() as s:
        first = list_images(s, ImageFilter(), limit=2)
        assert len(first.items) == 2 and first.next
        second = list_images(s, ImageFilter(), cursor=first.next, limit=2)
        third = list_images(s, ImageFilter(), cursor=second.next, limit=2)
        ids = [r.id for r in first.items + second.items + third.items]
        assert len(ids) == 5 == len(set(ids)) and not third.next
        assert {r.repository for r in list_images(s, ImageFilter(repository="app1")).items} == {"app1"}
        assert len(list_images(s, ImageFilter(health="Unhealthy")).items) == 2
        assert len(list_images(s, ImageFilter(severity="high,critical")).items) == 2
        assert list_images(s, ImageFilter(registry="other")).items == []
        with pytest.raises(ConfigError):
            list_images(s, ImageFilter(health="Sick"))
        with pytest.raises(ConfigError):
            list_images(s, ImageFilter(), cursor="!!notours")


def test_findings_open_close_and_reopen(store: Store) -> None:
    with store.session() as s:
        image = ensure_image(s, "reg", "app", "sha256:" + "a" * 64)
        diff = sync_findings(s, image, [finding("CVE-1"), finding("CVE-2")])
        assert len(diff.opened) == 2 and not diff.closed
        diff = sync_findings(s, image, [finding("CVE-2"), finding("CVE-3", level="CRITICAL")])
        assert [r.vuln_id for r in diff.opened] == ["CVE-3"] and [r.vuln_id for r in diff.closed] == ["CVE-1"]
        assert {r.vuln_id for r in list_findings(s, image.id).items} == {"CVE-2", "CVE-3"}
        assert {r.vuln_id for r in list_findings(s, image.id, state=CLOSED).items} == {"CVE-1"}
        diff = sync_findings(s, image, [finding("CVE-1"), finding("CVE-2"), finding("CVE-3", level="CRITICAL")])
        assert [r.vuln_id for r in diff.opened] == ["CVE-1"] and not diff.closed
        reopened = next(r for r in list_findings(s, image.id, state=OPEN).items if r.vuln_id == "CVE-1")
        assert reopened.closed_at is None and reopened.cvss_score == 7.5 and reopened.cvss_vector.startswith("CVSS:3.1")
        assert not sync_findings(s, image, [finding("CVE-1"), finding("CVE-2"),
                                            finding("CVE-3", level="CRITICAL")]).changed


def test_scan_queue_claims_once_backs_off_and_resumes(store: Store) -> None:
    with store.session() as s:
        a = new_scan(s, "reg/app@sha256:" + "1" * 64, trigger="webhook").id
        b = new_scan(s, "reg/app@sha256:" + "2" * 64, trigger="webhook").id
    with store.sessions() as s1, store.sessions() as s2:
        first, second = claim_next(s1), claim_next(s2)
        assert first is not None and second is not None and {first.id, second.id} == {a, b}
        with store.sessions() as s3:
            assert claim_next(s3) is None  # both taken
    with store.session() as s:
        row = s.get(type(first), a)
        assert row is not None and row.status == RUNNING and row.attempts == 1
        fail(row, "cannot reach registry", retry_in=60)
        assert row.status == QUEUED and "attempt 1: cannot reach registry" in row.error
    with store.sessions() as s:
        assert claim_next(s) is None  # backing off
        assert claim_next(s, now=utcnow() + timedelta(seconds=61)) is not None
    with store.session() as s:
        assert requeue_running(s) == 2  # what a killed process left running
    with store.sessions() as s:
        claimed = claim_next(s)
        assert claimed is not None
    with store.session() as s:
        row = s.get(type(claimed), claimed.id)
        assert row is not None
        finish(row, [1])
        assert row.status == DONE and row.duration is not None and row.images == [1]


def test_images_of_finds_index_platforms(store: Store) -> None:
    with store.session() as s:
        ensure_image(s, "reg", "app", "sha256:" + "1" * 64, index_digest="sha256:" + "f" * 64)
        ensure_image(s, "reg", "app", "sha256:" + "2" * 64, index_digest="sha256:" + "f" * 64)
        assert len(images_of(s, "reg", "app", "sha256:" + "f" * 64)) == 2
        assert len(images_of(s, "reg", "app", "sha256:" + "1" * 64)) == 1
        assert images_of(s, "reg", "other", "sha256:" + "1" * 64) == []


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from containerguard.store.db import database_url

    settings = replace(Settings(), home=tmp_path)
    monkeypatch.delenv("CONTAINERGUARD_DATABASE_URL", raising=False)
    assert database_url(settings) == f"sqlite:///{tmp_path / 'containerguard.db'}"
    monkeypatch.setenv("CONTAINERGUARD_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert database_url(settings) == "postgresql+psycopg://u@h/db"
    with pytest.raises(ConfigError):
        Store("not a url")
