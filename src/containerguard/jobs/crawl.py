"""Catalog crawl: list a registry's repositories (``/v2/_catalog``) and tags (``tags/list``) and
request a scan of every tagged digest, so images pushed before registration are scanned too.
Requests go through the image client (:class:`RegistryClient`), so authentication is the same."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from containerguard.errors import ContainerGuardError, SourceError
from containerguard.sources.base import SourceOptions
from containerguard.sources.imageref import ImageRef
from containerguard.sources.registry import RegistryClient
from containerguard.store import registries as registry_repo
from containerguard.store.tables import utcnow

from .context import JobContext
from .dispatch import SCAN, Dispatcher, Job
from .enqueue import PushTarget, request_scan

log = logging.getLogger("containerguard.jobs")
PAGE = 1000
MAX_PAGES = 1000
_NEXT = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")


def _next_link(response: httpx.Response) -> str:
    match = _NEXT.search(response.headers.get("link", ""))
    return match.group(1) if match else ""


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = json.loads(response.read())
    except ValueError as exc:
        raise SourceError(f"{what}: not JSON") from exc
    finally:
        response.close()
    if not isinstance(body, dict):
        raise SourceError(f"{what}: not a JSON object")
    return body


class CatalogClient(RegistryClient):
    """The registry-wide calls: ``/v2/_catalog`` needs the ``registry:catalog:*`` scope."""

    def __init__(self, host: str, options: SourceOptions) -> None:
        super().__init__(ImageRef(host, "catalog"), options)

    def _scope(self) -> str:
        return "registry:catalog:*"

    def _get(self, path: str) -> httpx.Response:
        url = f"{self._base_url()}{path}"
        for _ in range(2):
            headers = {"Authorization": self._auth} if self._auth else {}
            response = self._send("GET", url, headers, stream=False)
            if response.status_code == 401 and self._authenticate(response):
                response.close()
                continue
            break
        if response.status_code in (401, 403):
            raise self._auth_error(response.status_code)
        if response.status_code >= 300:
            raise SourceError(f"registry {self.ref.host} answered {response.status_code} for {path}")
        return response

    def repositories(self) -> list[str]:
        """Every repository the catalog lists."""
        out: list[str] = []
        path = f"/v2/_catalog?n={PAGE}"
        for _ in range(MAX_PAGES):
            response = self._get(path)
            link = _next_link(response)
            out.extend(r for r in _json(response, "catalog").get("repositories") or [] if isinstance(r, str))
            if not link:
                break
            path = link
        return out


def list_tags(client: RegistryClient) -> list[str]:
    """Every tag of the client's repository."""
    out: list[str] = []
    path = f"tags/list?n={PAGE}"
    prefix = f"/v2/{client.ref.repository}/"
    for _ in range(MAX_PAGES):
        response = client.request(path, "tag list")
        link = _next_link(response)
        out.extend(t for t in _json(response, "tag list").get("tags") or [] if isinstance(t, str))
        if not link.startswith(prefix):
            break
        path = link[len(prefix):]
    return out


@dataclass
class CrawlReport:
    """What one crawl found and queued."""

    repositories: int = 0
    tags: int = 0
    queued: int = 0
    errors: list[str] = field(default_factory=list)


def crawl_registry(ctx: JobContext, dispatcher: Dispatcher, registry_id: int) -> CrawlReport:
    """Crawl one registry and request scans of what it holds (coalesced as pushes are)."""
    report = CrawlReport()
    with ctx.store.session() as session:
        row = registry_repo.get_registry(session, registry_id)
        if row is None:
            return report
        access = registry_repo.access(row, ctx.cipher)
    options = SourceOptions(insecure=access.insecure, username=access.username, password=access.password,
                            settings=ctx.config.settings)
    found: dict[tuple[str, str], set[str]] = {}
    catalog = CatalogClient(access.host, options)
    try:
        repositories = catalog.repositories()
    except ContainerGuardError as exc:
        report.errors.append(f"catalog: {exc}")
        repositories = []
    finally:
        catalog.close()
    report.repositories = len(repositories)
    for repository in repositories:
        client = RegistryClient(ImageRef(access.host, repository), options)
        try:
            for tag in list_tags(client):
                report.tags += 1
                _, _, digest = client.manifest(tag)
                found.setdefault((repository, digest), set()).add(tag)
        except ContainerGuardError as exc:
            report.errors.append(f"{repository}: {exc}")
        finally:
            client.close()
    with ctx.store.session() as session:
        for (repository, digest), tags in sorted(found.items()):
            done = request_scan(session, PushTarget(access.host, repository, digest, tuple(sorted(tags)),
                                                    registry_id), "crawl")
            if done.created and done.scan is not None:
                report.queued += 1
        row = registry_repo.get_registry(session, registry_id)
        if row is not None:
            row.last_crawl, row.crawl_error = utcnow(), "; ".join(report.errors)[:2000]
    if report.queued:
        dispatcher.submit(Job(SCAN))
    log.info("crawled registry %s: %d repositories, %d tags, %d scan(s) queued%s", access.host,
             report.repositories, report.tags, report.queued,
             f", errors: {'; '.join(report.errors)}" if report.errors else "")
    return report
