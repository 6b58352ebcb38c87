"""The feed importer interface and the reading of feed files (single JSON, folder, zip).

An importer never touches the database: it turns one parsed JSON document into advisories and
:class:`Malformed` notes. :func:`documents` walks what the user pointed at and :func:`feed_for`
picks the importer whose :meth:`Feed.accepts` recognises each document.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from containerguard.errors import FeedError
from containerguard.models.advisory import Advisory
from containerguard.registry import load_plugins, plugins


@dataclass(frozen=True)
class Malformed:
    """A record an importer could not use, and why (counted and reported, never fatal)."""

    reason: str


@dataclass(frozen=True)
class Document:
    """One JSON document read from a feed file, or why it could not be read."""

    origin: str
    """``path`` or ``archive.zip!member``: where it came from, for messages."""
    data: Any = None
    error: str = ""


class Feed(ABC):
    """One feed format. Subclasses are registered with ``@register("feed")``."""

    name: ClassVar[str]
    """The source written on every advisory and in the import stats: ``osv``, ``debian-tracker``…"""
    priority: ClassVar[int] = 50
    """Lower is tried first by :func:`feed_for`; the permissive OSV test goes last."""

    @classmethod
    @abstractmethod
    def accepts(cls, document: Any) -> bool:
        """Whether a parsed JSON document is in this feed's format (a cheap shape test)."""

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Whether the JSON file at ``path`` is in this feed's format."""
        try:
            return path.is_file() and cls.accepts(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            return False

    @abstractmethod
    def parse(self, document: Any, origin: str) -> Iterator[Advisory | Malformed]:
        """The advisories of one document, and a :class:`Malformed` for each record it had to drop."""

    def scope(self, document: Any) -> str:
        """The part of the feed a document covers, when one feed ships several files whose records
        share ids (secdb: one file per release and repository). Records are keyed by
        (source, scope, id), so importing one file never replaces another's records."""
        return ""


def feeds() -> list[Feed]:
    """Every registered feed importer, most specific first."""
    load_plugins("containerguard.vulndb.feeds")
    return sorted((cls() for cls in plugins("feed").values()), key=lambda f: (f.priority, f.name))


def feed_for(document: Any, candidates: list[Feed]) -> Feed | None:
    """The first importer that recognises ``document``."""
    for feed in candidates:
        if feed.accepts(document):
            return feed
    return None


def _load(raw: bytes, origin: str) -> Document:
    try:
        return Document(origin, json.loads(raw))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        return Document(origin, error=f"{origin}: not JSON ({exc})")


def _zip_documents(path: Path) -> Iterator[Document]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedError(f"{path} is not a readable zip archive: {exc}") from exc
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            origin = f"{path}!{info.filename}"
            try:
                raw = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
                # A damaged member means a damaged download: stop rather than import part of it.
                raise FeedError(f"{origin}: corrupt zip member ({exc})") from exc
            yield _load(raw, origin)


def _dir_documents(path: Path) -> Iterator[Document]:
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            file = Path(root) / name
            try:
                raw = file.read_bytes()
            except OSError as exc:
                yield Document(str(file), error=f"{file}: cannot read ({exc.strerror})")
                continue
            yield _load(raw, str(file))


def documents(path: Path) -> Iterator[Document]:
    """Every JSON document under ``path``: a ``.json`` file, a folder (recursively, ``*.json``)
    or a zip archive (its ``*.json`` members, like OSV.dev's ``all.zip``)."""
    if path.is_dir():
        yield from _dir_documents(path)
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head.startswith(b"PK") or path.suffix == ".zip":
        yield from _zip_documents(path)
        return
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read {path}: {exc.strerror or exc}") from exc
    yield _load(raw, str(path))


def timestamp_key(value: str) -> str:
    """A sortable UTC form of an RFC 3339 timestamp (``""`` stays ``""``); ValueError if unparsable.

    Feeds write ``2024-01-02T03:04:05Z``, with or without fractions or offsets; plain string
    comparison gets fractions wrong (``.5Z`` < ``Z``), so records are compared on this key.
    """
    if not value:
        return ""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError as exc:  # year 1 with a positive offset
        raise ValueError(f"timestamp out of range: {value}") from exc
    # isoformat pads the year to four digits (strftime's %Y does not: Go's vulndb writes year 1).
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def text(value: Any) -> str:
    """A JSON scalar as text ('' for null); feeds sometimes write numbers where text is meant."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise TypeError(f"expected text, got {type(value).__name__}")


def str_list(value: Any, field: str) -> tuple[str, ...]:
    """A JSON list of strings as a tuple; TypeError naming ``field`` when it is not one."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{field} is not a list of strings")
    return tuple(value)
