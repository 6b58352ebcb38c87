"""``db update``: fetch the configured online feeds and import them in one atomic swap.

Sources, first match wins:

1. ``CONTAINERGUARD_FEED_URLS``: URLs separated by blanks, commas or newlines;
2. ``$CONTAINERGUARD_HOME/feeds.txt``: one URL per line, ``#`` starts a comment;
3. the defaults: OSV.dev's per-ecosystem ``all.zip`` for :data:`DEFAULT_OSV_ECOSYSTEMS`, the Debian
   security tracker JSON, and Alpine's secdb for :data:`DEFAULT_ALPINE_RELEASES`.

Downloads stream into ``$CONTAINERGUARD_HOME/cache/feeds``; an interrupted download resumes with a
``Range`` request, transient failures are retried, and an unchanged feed is not fetched again
(``If-None-Match`` / ``If-Modified-Since``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from containerguard.config import Settings
from containerguard.errors import FeedError

from .build import FeedInput, ImportReport, Progress, import_feeds
from .store import db_path

OSV_URL = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
DEBIAN_TRACKER_URL = "https://security-tracker.debian.org/tracker/data/json"
ALPINE_SECDB_URL = "https://secdb.alpinelinux.org/{release}/{repo}.json"
DEFAULT_OSV_ECOSYSTEMS = ("Debian", "Ubuntu", "Alpine", "PyPI", "npm", "Go", "Maven", "crates.io",
                          "RubyGems", "NuGet", "Packagist")
DEFAULT_ALPINE_RELEASES = ("v3.18", "v3.19", "v3.20", "v3.21", "v3.22")
FEED_URLS_ENV = "CONTAINERGUARD_FEED_URLS"
TIMEOUT = httpx.Timeout(120.0, connect=10.0)
CHUNK = 1 << 16

DownloadProgress = Callable[[str, int, int | None], None]
"""Called while downloading: (url, bytes so far, total bytes if known)."""


def default_urls() -> list[str]:
    """The built-in feed list."""
    urls = [OSV_URL.format(ecosystem=eco) for eco in DEFAULT_OSV_ECOSYSTEMS]
    urls.append(DEBIAN_TRACKER_URL)
    urls += [ALPINE_SECDB_URL.format(release=rel, repo=repo)
             for rel in DEFAULT_ALPINE_RELEASES for repo in ("main", "community")]
    return urls


def configured_urls(settings: Settings) -> list[str]:
    """The feeds ``db update`` fetches (see the module docstring for the order of precedence)."""
    raw = os.environ.get(FEED_URLS_ENV, "").strip()
    if raw:
        return [u for u in re.split(r"[\s,]+", raw) if u]
    listing = settings.home / "feeds.txt"
    if listing.is_file():
        lines = (line.split("#", 1)[0].strip() for line in listing.read_text().splitlines())
        return [line for line in lines if line]
    return default_urls()


def is_url(text: str) -> bool:
    """Whether a ``db import`` argument is a URL rather than a path."""
    return text.startswith(("http://", "https://"))


def _file_name(url: str) -> str:
    parts = urlsplit(url)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{parts.netloc}{parts.path}").strip("_")
    return name or "feed"


class FeedOffline(FeedError):
    """A feed's host could not be connected to at all (no network, DNS failure, refused)."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"offline: cannot reach {host} ({detail})")
        self.host = host


class _Retry(Exception):
    """A failure worth another attempt."""


def _fetch(client: httpx.Client, url: str, dest: Path, progress: DownloadProgress | None) -> None:
    part = dest.with_name(dest.name + ".part")
    meta_file = dest.with_name(dest.name + ".meta")
    headers: dict[str, str] = {}
    have = part.stat().st_size if part.exists() else 0
    if have:
        headers["Range"] = f"bytes={have}-"
    elif dest.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return
        if response.status_code == 416:
            part.unlink(missing_ok=True)  # our partial file is not a prefix of the current one
            raise _Retry(f"{url}: range not satisfiable, starting over")
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retry(f"{url}: HTTP {response.status_code}")
        if response.status_code not in (200, 206):
            raise FeedError(f"cannot download {url}: HTTP {response.status_code}")
        resumed = response.status_code == 206
        done = have if resumed else 0
        length = response.headers.get("Content-Length")
        total = done + int(length) if length and length.isdigit() else None
        with part.open("ab" if resumed else "wb") as out:
            for chunk in response.iter_bytes(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(url, done, total)
        if total is not None and done != total:
            raise _Retry(f"{url}: connection closed after {done} of {total} bytes")
        os.replace(part, dest)
        meta_file.write_text(json.dumps({"etag": response.headers.get("ETag", ""),
                                         "last_modified": response.headers.get("Last-Modified", "")}))


_NO_SUCH_HOST = re.compile(r"Name or service not known|No address associated|nodename nor servname|"
                           r"Temporary failure in name resolution|getaddrinfo failed", re.I)


def download(url: str, folder: Path, progress: DownloadProgress | None = None, attempts: int = 3,
             backoff: float = 1.0, client: httpx.Client | None = None) -> Path:
    """Fetch ``url`` into ``folder`` (resuming, retrying); the local file. FeedError on failure,
    ``offline: cannot reach HOST`` when the host cannot be connected to at all."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / _file_name(url)
    host = urlsplit(url).hostname or url
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        last: FeedError = FeedError(f"cannot download {url}")
        for attempt in range(attempts):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                _fetch(http, url, dest, progress)
                return dest
            except httpx.ConnectError as exc:
                last = FeedOffline(host, str(exc))
                if _NO_SUCH_HOST.search(str(exc)):
                    break  # a name that does not resolve will not resolve a second later
            except (httpx.TransportError, _Retry) as exc:
                last = FeedError(f"cannot download {url}: {exc or type(exc).__name__}")
            except OSError as exc:
                raise FeedError(f"cannot save {url} to {dest}: {exc.strerror or exc}") from exc
        raise last
    finally:
        if own:
            http.close()


@dataclass
class UpdateResult:
    """What ``db update`` did."""

    report: ImportReport | None
    """None when nothing could be fetched."""
    failures: list[FeedError] = field(default_factory=list)
    """One error per feed that could not be fetched."""


def fetch_all(urls: list[str], folder: Path, progress: DownloadProgress | None = None,
              attempts: int = 3, backoff: float = 1.0) -> tuple[list[FeedInput], list[FeedError]]:
    """Download every URL; the inputs fetched and the failures."""
    inputs: list[FeedInput] = []
    failures: list[FeedError] = []
    unreachable: dict[str, FeedOffline] = {}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client:
        for url in urls:
            host = urlsplit(url).hostname or url
            if host in unreachable:
                # One host that cannot be reached at all is not retried for each of its feeds.
                failures.append(unreachable[host])
                continue
            try:
                inputs.append(FeedInput(download(url, folder, progress, attempts, backoff, client), url))
            except FeedOffline as exc:
                unreachable[host] = exc
                failures.append(exc)
            except FeedError as exc:
                failures.append(exc)
    return inputs, failures


def update(settings: Settings, urls: list[str] | None = None, progress: DownloadProgress | None = None,
           import_progress: Progress | None = None, attempts: int = 3, backoff: float = 1.0) -> UpdateResult:
    """Fetch the configured feeds and import what could be fetched. FeedError when nothing could."""
    urls = urls if urls is not None else configured_urls(settings)
    if not urls:
        raise FeedError(f"no feeds configured: set {FEED_URLS_ENV} or list URLs in {settings.home / 'feeds.txt'}")
    inputs, failures = fetch_all(urls, settings.home / "cache" / "feeds", progress, attempts, backoff)
    if not inputs:
        offline = sorted({f.host for f in failures if isinstance(f, FeedOffline)})
        if all(isinstance(f, FeedOffline) for f in failures):
            raise FeedError(f"offline: cannot reach {', '.join(offline)}; the vulnerability database is unchanged")
        raise FeedError(f"no feed could be fetched ({failures[0]}); the vulnerability database is unchanged")
    return UpdateResult(import_feeds(inputs, db_path(settings), import_progress), failures)
