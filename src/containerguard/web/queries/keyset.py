"""Keyset pagination over any sort order: the cursor names the sort values of the last row shown, and
the next page is the rows strictly after it in that order (``WHERE (a, b) > (x, y)`` spelled out so
that NULLs, which sort last either way, and mixed directions work on SQLite and PostgreSQL alike).
Unlike OFFSET, page 200 costs what page 1 costs."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, and_, false, or_
from sqlalchemy.orm import QueryableAttribute, Session

from containerguard.errors import ConfigError
from containerguard.store.paging import clamp

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns."""
AnyRow: TypeAlias = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class Key:
    """One sort key: an expression, its direction, and whether it may be NULL (NULLs sort last)."""

    expr: ColumnElement[Any] | QueryableAttribute[Any]
    descending: bool = False
    nullable: bool = False
    kind: type = int
    """The Python type of its values (``int``, ``float``, ``str`` or ``datetime``), to read cursors back."""

    def order(self) -> ColumnElement[Any]:
        """The ORDER BY term."""
        term = self.expr.desc() if self.descending else self.expr.asc()
        return term.nulls_last() if self.nullable else term

    def after(self, value: Any) -> ColumnElement[bool]:
        """Rows strictly after ``value`` in this key's order."""
        if value is None:
            return false()
        beyond = self.expr < value if self.descending else self.expr > value
        return or_(beyond, self.expr.is_(None)) if self.nullable else beyond

    def equal(self, value: Any) -> ColumnElement[bool]:
        """Rows with exactly ``value``."""
        return self.expr.is_(None) if value is None else self.expr == value


def order_by(keys: Sequence[Key]) -> list[ColumnElement[Any]]:
    """ORDER BY terms for ``keys`` (the last key must be unique, e.g. the id)."""
    return [k.order() for k in keys]


def after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after the row whose sort values are ``values``."""
    terms = []
    for i, key in enumerate(keys):
        terms.append(and_(*(keys[j].equal(values[j]) for j in range(i)), key.after(values[i])))
    return or_(*terms)


def encode(values: Sequence[Any]) -> str:
    """An opaque cursor for a row's sort values."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, keys: Sequence[Key]) -> list[Any]:
    """The sort values of a cursor made by :func:`encode` for the same keys; ConfigError otherwise."""
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError("invalid page cursor") from exc
    if not isinstance(plain, list) or len(plain) != len(keys):
        raise ConfigError("invalid page cursor")
    values: list[Any] = []
    for key, value in zip(keys, plain, strict=True):
        if value is None and key.nullable:
            values.append(None)
        elif key.kind is datetime and isinstance(value, str):
            try:
                values.append(datetime.fromisoformat(value))
            except ValueError as exc:
                raise ConfigError("invalid page cursor") from exc
        elif key.kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            values.append(float(value))
        elif key.kind is not datetime and type(value) is key.kind:
            values.append(value)
        else:
            raise ConfigError("invalid page cursor")
    return values


def fetch(session: Session, query: AnySelect, keys: Sequence[Key], cursor: str,
          limit: int) -> tuple[list[AnyRow], str]:
    """Up to ``limit`` rows of ``query`` after ``cursor`` in the order of ``keys``, and the cursor of
    the next page ("" when this is the last)."""
    limit = clamp(limit)
    labelled = query.add_columns(*(k.expr.label(f"sortkey{i}") for i, k in enumerate(keys)))
    if cursor:
        labelled = labelled.where(after(keys, decode(cursor, keys)))
    rows = list(session.execute(labelled.order_by(*order_by(keys)).limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, ""
    last = rows[limit - 1]._mapping
    return rows[:limit], encode([last[f"sortkey{i}"] for i in range(len(keys))])
