"""Cursor pagination: a cursor is an opaque string naming the last row of the previous page."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from containerguard.errors import ConfigError

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next page ("" when this is the last)."""

    items: list[T]
    next: str = ""


def encode_cursor(value: int | str) -> str:
    """An opaque cursor for ``value`` (a row id)."""
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Inverse of :func:`encode_cursor`; ConfigError for a cursor we did not make."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError("invalid cursor") from exc


def decode_int_cursor(cursor: str) -> int:
    """A cursor naming an integer id."""
    text = decode_cursor(cursor)
    if not text.isdigit():
        raise ConfigError("invalid cursor")
    return int(text)


def clamp(limit: int) -> int:
    """A page size between 1 and :data:`MAX_LIMIT`."""
    return max(1, min(limit, MAX_LIMIT))


def page(rows: Sequence[T], limit: int, key: int | str | None) -> Page[T]:
    """``rows`` fetched with ``limit + 1``: the page and, when more exist, the cursor after it."""
    if len(rows) > limit:
        return Page(list(rows[:limit]), encode_cursor(key) if key is not None else "")
    return Page(list(rows))
